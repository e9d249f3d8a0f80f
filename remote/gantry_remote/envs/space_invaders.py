"""Space Invaders, MinAtar rules (minatar/environments/space_invaders.py).

The cannon on the bottom row shoots upward (cool-down 5 frames). A 4x6 block of aliens marches
sideways and steps down when it touches an edge; the alien nearest the cannon fires every 10
frames. Shooting an alien is +1. The march interval is min(aliens left, 12), so the last few
speed up; each cleared wave returns one frame faster (down to 6). The game ends when an alien
or an alien bullet reaches the cannon, or the aliens reach the bottom row on a step down.
"""
import torch

from .base import FIRE, GRID, LEFT, NOOP, RIGHT, BuiltinGame, State, cell_mask

SHOT_COOL_DOWN = 5
ENEMY_MOVE_INTERVAL = 12
ENEMY_SHOT_INTERVAL = 10
MIN_MOVE_INTERVAL = 6


def _wave(n: int, device) -> torch.Tensor:
    aliens = torch.zeros((n, GRID, GRID), dtype=torch.bool, device=device)
    aliens[:, 0:4, 2:8] = True
    return aliens


def _shift_rows(grid: torch.Tensor, up: bool) -> torch.Tensor:
    """Move every row one up (or down); the vacated row is empty (np.roll then clear)."""
    empty = torch.zeros_like(grid[:, :1])
    return torch.cat([grid[:, 1:], empty], dim=1) if up else torch.cat([empty, grid[:, :-1]], dim=1)


class SpaceInvaders(BuiltinGame):
    game_id = "space_invaders"
    channels = ("cannon", "alien", "alien_left", "alien_right", "friendly_bullet", "enemy_bullet")
    action_codes = (NOOP, LEFT, RIGHT, FIRE)

    def _initial_state(self, draws) -> State:
        n, dev = draws.batch

        def full(value):
            return torch.full((n,), value, dtype=torch.int32, device=dev)

        empty = torch.zeros((n, GRID, GRID), dtype=torch.bool, device=dev)
        return {
            "cannon": full(5),
            "aliens": _wave(n, dev),
            "friendly_bullets": empty,
            "enemy_bullets": empty.clone(),
            "alien_dir": full(-1),
            "move_interval": full(ENEMY_MOVE_INTERVAL),
            "move_timer": full(ENEMY_MOVE_INTERVAL),
            "shot_timer_aliens": full(ENEMY_SHOT_INTERVAL),
            "ramp_index": full(0),
            "shot_timer": full(0),
        }

    def _transition(self, s: State, codes: torch.Tensor, draws):
        n = codes.shape[0]
        dev = codes.device
        cols = torch.arange(GRID, device=dev)
        rows = torch.arange(GRID, device=dev)
        pos = s["cannon"]

        fire = (codes == FIRE) & (s["shot_timer"] == 0)
        friendly = s["friendly_bullets"] | (cell_mask(torch.full_like(pos, GRID - 1), pos) & fire.view(-1, 1, 1))
        shot_timer = torch.where(fire, SHOT_COOL_DOWN, s["shot_timer"])
        pos = torch.where(codes == LEFT, (pos - 1).clamp(min=0), pos)
        pos = torch.where(codes == RIGHT, (pos + 1).clamp(max=GRID - 1), pos)
        at_cannon = (cols == pos.view(-1, 1))  # [N, 10] cannon column in the bottom row

        friendly = _shift_rows(friendly, up=True)
        enemy = _shift_rows(s["enemy_bullets"], up=False)
        terminal = (enemy[:, GRID - 1] & at_cannon).any(dim=1)

        aliens = s["aliens"]
        terminal = terminal | (aliens[:, GRID - 1] & at_cannon).any(dim=1)
        move = s["move_timer"] == 0
        count = aliens.sum(dim=(1, 2), dtype=torch.int32)
        move_timer = torch.where(move, torch.minimum(count, s["move_interval"]), s["move_timer"])
        direction = s["alien_dir"]
        at_edge = (aliens[:, :, 0].any(dim=1) & (direction < 0)) | (aliens[:, :, GRID - 1].any(dim=1) & (direction > 0))
        step_down = move & at_edge
        step_side = move & ~at_edge
        terminal = terminal | (step_down & aliens[:, GRID - 1].any(dim=1))
        direction = torch.where(step_down, -direction, direction)
        sideways = torch.where((direction > 0).view(-1, 1, 1), torch.roll(aliens, 1, dims=2), torch.roll(aliens, -1, dims=2))
        aliens = torch.where(
            step_down.view(-1, 1, 1), torch.roll(aliens, 1, dims=1), torch.where(step_side.view(-1, 1, 1), sideways, aliens)
        )
        terminal = terminal | (move & (aliens[:, GRID - 1] & at_cannon).any(dim=1))

        # The lowest alien of the occupied column nearest the cannon fires (ties: left column).
        shoot = s["shot_timer_aliens"] == 0
        shot_timer_aliens = torch.where(shoot, ENEMY_SHOT_INTERVAL, s["shot_timer_aliens"])
        occupied = aliens.any(dim=1)  # [N, 10]
        distance_key = (cols.view(1, -1) - pos.view(-1, 1)).abs() * GRID + cols.view(1, -1)
        shooter_col = torch.argmin(torch.where(occupied, distance_key, 10 * GRID * GRID), dim=1)
        column = torch.gather(aliens, 2, shooter_col.view(-1, 1, 1).expand(n, GRID, 1)).squeeze(2)  # [N, 10]
        shooter_row = torch.where(column, rows.view(1, -1), -1).amax(dim=1)
        enemy = enemy | (cell_mask(shooter_row, shooter_col) & shoot.view(-1, 1, 1))

        kills = aliens & friendly
        reward = kills.sum(dim=(1, 2)).to(torch.float32)
        aliens = aliens & ~kills
        friendly = friendly & ~kills

        cleared = ~aliens.any(dim=(1, 2))
        ramps = cleared & (s["move_interval"] > MIN_MOVE_INTERVAL)
        aliens = aliens | (_wave(n, dev) & cleared.view(-1, 1, 1))

        state = {
            "cannon": pos,
            "aliens": aliens,
            "friendly_bullets": friendly,
            "enemy_bullets": enemy,
            "alien_dir": direction,
            "move_interval": s["move_interval"] - ramps.to(torch.int32),
            "move_timer": move_timer - 1,
            "shot_timer_aliens": shot_timer_aliens - 1,
            "ramp_index": s["ramp_index"] + ramps.to(torch.int32),
            "shot_timer": (shot_timer - 1).clamp(min=0),
        }
        return state, reward, terminal

    def _observe(self, s: State) -> torch.Tensor:
        pos = s["cannon"]
        aliens = s["aliens"]
        left = (s["alien_dir"] < 0).view(-1, 1, 1)
        return torch.stack(
            [
                cell_mask(torch.full_like(pos, GRID - 1), pos),
                aliens,
                aliens & left,
                aliens & ~left,
                s["friendly_bullets"],
                s["enemy_bullets"],
            ],
            dim=1,
        )
