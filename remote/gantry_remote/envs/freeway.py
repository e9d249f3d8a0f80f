"""Freeway, MinAtar rules (minatar/environments/freeway.py).

The chicken (column 4) crosses eight lanes of traffic (rows 1-8). It may move only every
3 frames. Reaching row 0 is +1 and puts it back on row 9; a car entering or sitting on its
cell also sends it back to row 9. Cars wrap around the edges and move once every |speed|+1
frames (speed 1-5, random sign). MinAtar has no explicit ramp here: instead every crossing
re-draws all car speeds and directions. The game ends after 2500 frames.
"""
import torch
import torch.nn.functional as F

from .base import DOWN, GRID, NOOP, UP, BuiltinGame, State

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
        # Every row of every channel lights at most one cell, so the observation is "column ==
        # lit column of (channel, row)", -1 where none: one comparison per output cell, reading
        # only its own row's car. Under torch.compile the whole observation is then one
        # pointwise kernel that writes each float once (an OR over the 8 cars per cell, as
        # cells_mask does, reads every car for every cell). Rows 0 and 9 have no lane: padded
        # with a car off the grid (column -1) at speed 0, which lights no cell in any channel.
        grid = torch.arange(GRID, dtype=torch.int32, device=s["car_x"].device)
        channel = torch.arange(len(self.channels), dtype=torch.int32, device=grid.device).view(1, -1, 1)
        rows = grid.view(1, 1, GRID)
        row_x = F.pad(s["car_x"], (1, 1), value=-1).view(-1, 1, GRID)  # [N, 1, row]
        row_velocity = F.pad(s["car_velocity"], (1, 1), value=0).view(-1, 1, GRID)
        back_x = torch.remainder(row_x - torch.where(row_velocity > 0, 1, -1).to(torch.int32), GRID)
        trail_x = torch.where(row_velocity.abs() == channel - 1, back_x, -1)  # channels 2-6: speed 1-5
        chicken_x = torch.where(rows == s["chicken_y"].view(-1, 1, 1), CHICKEN_X, -1).to(torch.int32)
        lit = torch.where(channel == 0, chicken_x, torch.where(channel == 1, row_x, trail_x))  # [N, C, row]
        return lit.unsqueeze(-1) == grid.view(1, 1, 1, GRID)
