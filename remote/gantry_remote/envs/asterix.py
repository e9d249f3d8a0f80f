"""Asterix, MinAtar rules (minatar/environments/asterix.py).

The player moves in four directions (rows 1-8). Entities spawn at the left or right edge in
one of eight lanes (one entity per lane) and cross the screen; a third of them are gold
(+1 when touched), the rest enemies (touching one ends the game). Every 100 frames the spawn
interval shrinks by one, and on every other ramp the movement interval too.
"""
import torch

from .base import DOWN, GRID, LEFT, NOOP, RIGHT, UP, BuiltinGame, State, cell_mask, cells_mask, step_toward

RAMP_INTERVAL = 100
INIT_SPAWN_SPEED = 10
INIT_MOVE_INTERVAL = 5
LANES = 8


class Asterix(BuiltinGame):
    game_id = "asterix"
    channels = ("player", "enemy", "trail", "gold")
    action_codes = (NOOP, LEFT, UP, RIGHT, DOWN)

    def _initial_state(self, draws) -> State:
        n, dev = draws.batch

        def full(value):
            return torch.full((n,), value, dtype=torch.int32, device=dev)

        lanes = torch.zeros((n, LANES), dtype=torch.bool, device=dev)
        return {
            "player_x": full(5),
            "player_y": full(5),
            "ent_x": torch.zeros((n, LANES), dtype=torch.int32, device=dev),
            "ent_present": lanes,
            "ent_right": lanes.clone(),  # moving right (spawned on the left edge)
            "ent_gold": lanes.clone(),
            "spawn_speed": full(INIT_SPAWN_SPEED),
            "spawn_timer": full(INIT_SPAWN_SPEED),
            "move_speed": full(INIT_MOVE_INTERVAL),
            "move_timer": full(INIT_MOVE_INTERVAL),
            "ramp_timer": full(RAMP_INTERVAL),
            "ramp_index": full(0),
        }

    def _transition(self, s: State, codes: torch.Tensor, draws):
        # Spawn into a uniformly chosen free lane (nothing when all eight are taken).
        spawn = s["spawn_timer"] == 0
        from_left = draws.coin(0)
        gold = draws.coin(1, 1.0 / 3.0)
        free = ~s["ent_present"]
        lane_scores = torch.where(free, draws.uniform(2, width=LANES), torch.full_like(free, -1.0, dtype=torch.float32))
        chosen = torch.argmax(lane_scores, dim=1, keepdim=True)
        lane_ids = torch.arange(LANES, device=codes.device).view(1, LANES)
        placed = (lane_ids == chosen) & free & spawn.view(-1, 1)
        ent_x = torch.where(placed, torch.where(from_left, 0, GRID - 1).to(torch.int32).view(-1, 1), s["ent_x"])
        present = s["ent_present"] | placed
        right = torch.where(placed, from_left.view(-1, 1), s["ent_right"])
        is_gold = torch.where(placed, gold.view(-1, 1), s["ent_gold"])
        spawn_timer = torch.where(spawn, s["spawn_speed"], s["spawn_timer"])

        px = s["player_x"]
        px = torch.where(codes == LEFT, (px - 1).clamp(min=0), px)
        px = torch.where(codes == RIGHT, (px + 1).clamp(max=GRID - 1), px)
        py = s["player_y"]
        py = torch.where(codes == UP, (py - 1).clamp(min=1), py)
        py = torch.where(codes == DOWN, (py + 1).clamp(max=LANES), py)
        in_player_lane = (lane_ids + 1) == py.view(-1, 1)

        # Contact before entities move, then again after (if they move this frame).
        touch = present & in_player_lane & (ent_x == px.view(-1, 1))
        reward = (touch & is_gold).sum(dim=1)
        terminal = (touch & ~is_gold).any(dim=1)
        present = present & ~(touch & is_gold)

        move = s["move_timer"] == 0
        moved = present & move.view(-1, 1)
        ent_x = torch.where(moved, step_toward(ent_x, right), ent_x)
        present = present & ~(moved & ((ent_x < 0) | (ent_x > GRID - 1)))
        touch = moved & present & in_player_lane & (ent_x == px.view(-1, 1))
        reward = reward + (touch & is_gold).sum(dim=1)
        terminal = terminal | (touch & ~is_gold).any(dim=1)
        present = present & ~(touch & is_gold)
        move_timer = torch.where(move, s["move_speed"], s["move_timer"]) - 1
        spawn_timer = spawn_timer - 1

        # Difficulty ramp: after each 100-frame interval (counted from -1), speed things up.
        spawn_speed, move_speed = s["spawn_speed"], s["move_speed"]
        ramp_timer, ramp_index = s["ramp_timer"], s["ramp_index"]
        can_ramp = (spawn_speed > 1) | (move_speed > 1)
        counting = can_ramp & (ramp_timer >= 0)
        ramps = can_ramp & (ramp_timer < 0)
        move_speed = torch.where(ramps & (move_speed > 1) & (ramp_index % 2 == 1), move_speed - 1, move_speed)
        spawn_speed = torch.where(ramps & (spawn_speed > 1), spawn_speed - 1, spawn_speed)
        ramp_index = torch.where(ramps, ramp_index + 1, ramp_index)
        ramp_timer = torch.where(counting, ramp_timer - 1, torch.where(ramps, RAMP_INTERVAL, ramp_timer))

        state = {
            "player_x": px,
            "player_y": py,
            "ent_x": ent_x,
            "ent_present": present,
            "ent_right": right,
            "ent_gold": is_gold,
            "spawn_speed": spawn_speed,
            "spawn_timer": spawn_timer,
            "move_speed": move_speed,
            "move_timer": move_timer,
            "ramp_timer": ramp_timer,
            "ramp_index": ramp_index,
        }
        return state, reward.to(torch.float32), terminal

    def _observe(self, s: State) -> torch.Tensor:
        player = cell_mask(s["player_y"], s["player_x"])
        rows = torch.arange(1, LANES + 1, device=s["ent_x"].device, dtype=torch.int32).expand_as(s["ent_x"])
        present, gold = s["ent_present"], s["ent_gold"]
        enemy = cells_mask(rows, s["ent_x"], present & ~gold)
        gold_cells = cells_mask(rows, s["ent_x"], present & gold)
        back_x = step_toward(s["ent_x"], ~s["ent_right"])  # off-grid trails are simply not drawn
        trail = cells_mask(rows, back_x, present)
        return torch.stack([player, enemy, trail, gold_cells], dim=1)
