"""Freeway, MinAtar rules (minatar/environments/freeway.py).

The chicken (column 4) crosses eight lanes of traffic (rows 1-8). It may move only every
3 frames. Reaching row 0 is +1 and puts it back on row 9; a car entering or sitting on its
cell also sends it back to row 9. Cars wrap around the edges and move once every |speed|+1
frames (speed 1-5, random sign). MinAtar has no explicit ramp here: instead every crossing
re-draws all car speeds and directions. The game ends after 2500 frames.
"""
import torch

from .base import DOWN, GRID, NOOP, UP, BuiltinGame, State, cell_mask, cells_mask

PLAYER_SPEED = 3
TIME_LIMIT = 2500
LANES = 8
CHICKEN_X = 4


class Freeway(BuiltinGame):
    game_id = "freeway"
    channels = ("chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5")
    action_codes = (NOOP, UP, DOWN)

    @staticmethod
    def _random_velocities(draws, stream: int) -> torch.Tensor:
        speed = draws.randint(stream, 1, 6, width=LANES)
        backwards = draws.coin(stream + 1, width=LANES)
        return torch.where(backwards, -speed, speed)

    def _initial_state(self, draws) -> State:
        n, dev = draws.batch
        velocity = self._random_velocities(draws, 0)
        return {
            "chicken_y": torch.full((n,), GRID - 1, dtype=torch.int32, device=dev),
            "move_timer": torch.full((n,), PLAYER_SPEED, dtype=torch.int32, device=dev),
            "time_left": torch.full((n,), TIME_LIMIT, dtype=torch.int32, device=dev),
            "car_x": torch.zeros((n, LANES), dtype=torch.int32, device=dev),
            "car_timer": velocity.abs(),
            "car_velocity": velocity,
        }

    def _transition(self, s: State, codes: torch.Tensor, draws):
        may_move = s["move_timer"] == 0
        up = (codes == UP) & may_move
        down = (codes == DOWN) & may_move
        y = torch.where(up, (s["chicken_y"] - 1).clamp(min=0), s["chicken_y"])
        y = torch.where(down, (y + 1).clamp(max=GRID - 1), y)
        move_timer = torch.where(up | down, PLAYER_SPEED, s["move_timer"])

        crossed = y == 0
        y = torch.where(crossed, GRID - 1, y)
        redrawn = self._random_velocities(draws, 0)
        velocity = torch.where(crossed.view(-1, 1), redrawn, s["car_velocity"])
        car_timer = torch.where(crossed.view(-1, 1), redrawn.abs(), s["car_timer"])

        # Only the car in the chicken's lane can hit it, before or after that car moves.
        car_x = s["car_x"]
        moves = car_timer == 0
        moved_x = torch.remainder(car_x + torch.where(velocity > 0, 1, -1).to(torch.int32), GRID)
        new_x = torch.where(moves, moved_x, car_x)
        car_timer = torch.where(moves, velocity.abs(), car_timer - 1)
        lane_rows = torch.arange(1, LANES + 1, device=y.device, dtype=torch.int32)
        in_lane = lane_rows == y.view(-1, 1)
        hit = (in_lane & ((car_x == CHICKEN_X) | (new_x == CHICKEN_X))).any(dim=1)
        y = torch.where(hit, GRID - 1, y)

        time_left = s["time_left"] - 1
        state = {
            "chicken_y": y,
            "move_timer": (move_timer - 1).clamp(min=0),
            "time_left": time_left,
            "car_x": new_x,
            "car_timer": car_timer,
            "car_velocity": velocity,
        }
        return state, crossed.to(torch.float32), time_left < 0

    def _observe(self, s: State) -> torch.Tensor:
        y = s["chicken_y"]
        chicken = cell_mask(y, torch.full_like(y, CHICKEN_X))
        rows = torch.arange(1, LANES + 1, device=y.device, dtype=torch.int32).expand_as(s["car_x"])
        present = torch.ones_like(s["car_x"], dtype=torch.bool)
        cars = cells_mask(rows, s["car_x"], present)
        velocity = s["car_velocity"]
        back_x = torch.remainder(s["car_x"] - torch.where(velocity > 0, 1, -1).to(torch.int32), GRID)
        speed = velocity.abs()
        trails = [cells_mask(rows, back_x, speed == k) for k in range(1, 6)]
        return torch.stack([chicken, cars] + trails, dim=1)
