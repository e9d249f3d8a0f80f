"""Breakout, MinAtar rules (Young & Tian 2019, minatar/environments/breakout.py).

The paddle on the bottom row bounces a ball that travels on diagonals. Breaking a brick is +1;
three rows of bricks (rows 1-3) are restored when the ball reaches the bottom row with none
left. The ball hitting the bottom row away from the paddle ends the game. No difficulty ramp.

Bricks are a 30-bit mask (bit (row-1)*10 + col), so a brick test or removal is one shift.
"""
import torch

from .base import GRID, LEFT, NOOP, RIGHT, BuiltinGame, State, cell_mask

FULL_WALL = (1 << 30) - 1
BALL_START_ROW = 3


def _brick_bit(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return ((y - 1) * GRID + x).clamp(0, 29)


class Breakout(BuiltinGame):
    game_id = "breakout"
    channels = ("paddle", "ball", "trail", "brick")
    action_codes = (NOOP, LEFT, RIGHT)

    def _initial_state(self, draws) -> State:
        n, dev = draws.batch
        from_right = draws.coin(0)  # MinAtar: start at (3, 0) heading down-right or (3, 9) down-left
        ball_x = torch.where(from_right, 9, 0).to(torch.int32)
        return {
            "ball_x": ball_x,
            "ball_y": torch.full((n,), BALL_START_ROW, dtype=torch.int32, device=dev),
            # directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left
            "ball_dir": torch.where(from_right, 3, 2).to(torch.int32),
            "last_x": ball_x.clone(),
            "last_y": torch.full((n,), BALL_START_ROW, dtype=torch.int32, device=dev),
            "paddle": torch.full((n,), 4, dtype=torch.int32, device=dev),
            "bricks": torch.full((n,), FULL_WALL, dtype=torch.int32, device=dev),
            "strike": torch.zeros(n, dtype=torch.bool, device=dev),
        }

    def _transition(self, s: State, codes: torch.Tensor, draws):
        paddle = torch.where(codes == LEFT, (s["paddle"] - 1).clamp(min=0), s["paddle"])
        paddle = torch.where(codes == RIGHT, (paddle + 1).clamp(max=GRID - 1), paddle)

        ball_x, ball_y, direction = s["ball_x"], s["ball_y"], s["ball_dir"]
        moving_right = (direction == 1) | (direction == 2)
        moving_up = direction <= 1
        new_x = ball_x + torch.where(moving_right, 1, -1).to(torch.int32)
        new_y = ball_y + torch.where(moving_up, -1, 1).to(torch.int32)

        # Side walls reflect horizontally (0<->1, 2<->3).
        side = (new_x < 0) | (new_x > GRID - 1)
        new_x = new_x.clamp(0, GRID - 1)
        direction = torch.where(side, direction ^ 1, direction)

        # Then exactly one of: ceiling, brick, bottom row (MinAtar's if/elif chain).
        ceiling = new_y < 0
        new_y = torch.where(ceiling, 0, new_y)
        direction = torch.where(ceiling, 3 - direction, direction)

        in_wall_rows = (new_y >= 1) & (new_y <= 3)
        bit = _brick_bit(new_y, new_x)
        brick_here = ~ceiling & in_wall_rows & (((s["bricks"] >> bit) & 1) == 1)
        # A ball that just broke a brick passes through a brick it lands on next ("strike").
        breaks = brick_here & ~s["strike"]
        bricks = torch.where(breaks, s["bricks"] & ~(torch.ones_like(bit) << bit), s["bricks"])
        new_y = torch.where(breaks, ball_y, new_y)
        direction = torch.where(breaks, 3 - direction, direction)

        bottom = ~ceiling & ~brick_here & (new_y == GRID - 1)
        bricks = torch.where(bottom & (bricks == 0), FULL_WALL, bricks)
        square_hit = bottom & (ball_x == paddle)  # ball came straight down onto the paddle
        edge_hit = bottom & ~square_hit & (new_x == paddle)
        direction = torch.where(square_hit, 3 - direction, torch.where(edge_hit, direction ^ 2, direction))
        new_y = torch.where(square_hit | edge_hit, ball_y, new_y)
        terminal = bottom & ~square_hit & ~edge_hit

        state = {
            "ball_x": new_x,
            "ball_y": new_y,
            "ball_dir": direction,
            "last_x": ball_x,
            "last_y": ball_y,
            "paddle": paddle,
            "bricks": bricks,
            "strike": brick_here,
        }
        return state, breaks.to(torch.float32), terminal

    def _prepare_constants(self) -> None:
        # Per cell, the brick-mask bit that lives there (0 outside rows 1-3). A constant input
        # rather than arange arithmetic: inductor's dynamic-shape index analysis choked on it.
        cell_bits = torch.zeros((GRID, GRID), dtype=torch.int32)
        for bit in range(30):
            cell_bits[1 + bit // GRID, bit % GRID] = 1 << bit
        self._cell_bits = cell_bits.to(self.device)

    def _observe(self, s: State) -> torch.Tensor:
        bricks = (s["bricks"].view(-1, 1, 1) & self._cell_bits) != 0
        paddle = cell_mask(torch.full_like(s["paddle"], GRID - 1), s["paddle"])
        ball = cell_mask(s["ball_y"], s["ball_x"])
        trail = cell_mask(s["last_y"], s["last_x"])
        return torch.stack([paddle, ball, trail, bricks], dim=1)
