"""Seaquest, MinAtar rules (minatar/environments/seaquest.py).

A two-cell submarine (front and back show its heading) shoots fish and enemy subs (+1 each);
subs shoot back. Divers can be picked up (at most 6). Oxygen (200) runs down below the
surface; surfacing with divers refills it and costs one diver, surfacing with all 6 pays
oxygen*10//200 and empties the diver count (MinAtar then still subtracts one, leaving -1;
kept as published). Every surfacing ramps enemy spawn rate and speed. The game ends on
contact with a fish, sub or enemy bullet, when oxygen runs out, or on surfacing with no diver.

MinAtar keeps variable-length lists; here each kind of object has fixed slots with a
`present` flag. Capacities are above what the rules can produce (enemies live at most
10*(move interval+1)+1 frames and spawn at most once a frame once the interval reaches 2),
so a spawn is never lost in practice; if every slot were taken the spawn would be skipped.
Each enemy slot owns one enemy-bullet slot: a sub fires every 11 frames and its bullet is
gone within 10, so a slot never needs two bullets at once.
"""
import torch

from .base import DOWN, FIRE, GRID, LEFT, NOOP, RIGHT, UP, BuiltinGame, State, cell_mask, cells_mask, step_toward

RAMP_INTERVAL = 100
MAX_OXYGEN = 200
INIT_SPAWN_SPEED = 20
DIVER_SPAWN_SPEED = 30
INIT_MOVE_INTERVAL = 5
SHOT_COOL_DOWN = 5
ENEMY_SHOT_INTERVAL = 10
DIVER_MOVE_INTERVAL = 5
MAX_DIVERS_ON_BOARD = 6

ENEMY_SLOTS = 40
DIVER_SLOTS = 4
BULLET_SLOTS = 3


def _first(mask: torch.Tensor) -> torch.Tensor:
    """[N, K] bool -> [N, K] bool with only the lowest-index True kept."""
    return mask & (torch.cumsum(mask.to(torch.int32), dim=1) == 1)


def _outside(x: torch.Tensor) -> torch.Tensor:
    return (x < 0) | (x > GRID - 1)


class Seaquest(BuiltinGame):
    game_id = "seaquest"
    channels = (
        "sub_front", "sub_back", "friendly_bullet", "trail", "enemy_bullet",
        "enemy_fish", "enemy_sub", "oxygen_gauge", "diver_gauge", "diver",
    )
    action_codes = (NOOP, LEFT, UP, RIGHT, DOWN, FIRE)

    def _initial_state(self, draws) -> State:
        n, dev = draws.batch

        def full(value, dtype=torch.int32):
            return torch.full((n,), value, dtype=dtype, device=dev)

        def slots(k, dtype=torch.int32):
            return torch.zeros((n, k), dtype=dtype, device=dev)

        state = {
            "oxygen": full(MAX_OXYGEN), "divers_on_board": full(0),
            "sub_x": full(5), "sub_y": full(0), "sub_right": full(False, torch.bool),
            "e_spawn_speed": full(INIT_SPAWN_SPEED), "e_spawn_timer": full(INIT_SPAWN_SPEED),
            "d_spawn_timer": full(DIVER_SPAWN_SPEED), "move_speed": full(INIT_MOVE_INTERVAL),
            "ramp_index": full(0), "shot_timer": full(0), "surfaced": full(True, torch.bool),
        }
        for prefix, k in (("enemy", ENEMY_SLOTS), ("diver", DIVER_SLOTS), ("fbullet", BULLET_SLOTS), ("ebullet", ENEMY_SLOTS)):
            state[prefix + "_x"] = slots(k)
            state[prefix + "_y"] = slots(k)
            state[prefix + "_right"] = slots(k, torch.bool)
            state[prefix + "_present"] = slots(k, torch.bool)
        for name in ("enemy_is_sub",):
            state[name] = slots(ENEMY_SLOTS, torch.bool)
        state["enemy_move_timer"] = slots(ENEMY_SLOTS)
        state["enemy_shot_timer"] = slots(ENEMY_SLOTS)
        state["diver_move_timer"] = slots(DIVER_SLOTS)
        return state

    def _transition(self, s: State, codes: torch.Tensor, draws):
        s = dict(s)
        col = lambda t: t.view(-1, 1)  # noqa: E731  [N] -> [N, 1] for broadcasting over slots
        reward = torch.zeros(codes.shape[0], dtype=torch.int32, device=codes.device)
        terminal = torch.zeros(codes.shape[0], dtype=torch.bool, device=codes.device)

        # -- spawns ------------------------------------------------------------------------
        spawn = s["e_spawn_timer"] == 0
        from_left, is_sub, row = draws.coin(0), draws.coin(1, 1.0 / 3.0), draws.randint(2, 1, 9)
        # No spawn into a row that holds an enemy heading the other way.
        blocked = (s["enemy_present"] & (s["enemy_y"] == col(row)) & (s["enemy_right"] != col(from_left))).any(dim=1)
        slot = _first(~s["enemy_present"]) & col(spawn & ~blocked)
        s["enemy_x"] = torch.where(slot, col(torch.where(from_left, 0, GRID - 1).to(torch.int32)), s["enemy_x"])
        s["enemy_y"] = torch.where(slot, col(row), s["enemy_y"])
        s["enemy_right"] = torch.where(slot, col(from_left), s["enemy_right"])
        s["enemy_is_sub"] = torch.where(slot, col(is_sub), s["enemy_is_sub"])
        s["enemy_move_timer"] = torch.where(slot, col(s["move_speed"]), s["enemy_move_timer"])
        s["enemy_shot_timer"] = torch.where(slot, ENEMY_SHOT_INTERVAL, s["enemy_shot_timer"])
        s["enemy_present"] = s["enemy_present"] | slot
        e_spawn_timer = torch.where(spawn, s["e_spawn_speed"], s["e_spawn_timer"])

        spawn_diver = s["d_spawn_timer"] == 0
        diver_from_left, diver_row = draws.coin(3), draws.randint(4, 1, 9)
        slot = _first(~s["diver_present"]) & col(spawn_diver)
        s["diver_x"] = torch.where(slot, col(torch.where(diver_from_left, 0, GRID - 1).to(torch.int32)), s["diver_x"])
        s["diver_y"] = torch.where(slot, col(diver_row), s["diver_y"])
        s["diver_right"] = torch.where(slot, col(diver_from_left), s["diver_right"])
        s["diver_move_timer"] = torch.where(slot, DIVER_MOVE_INTERVAL, s["diver_move_timer"])
        s["diver_present"] = s["diver_present"] | slot
        d_spawn_timer = torch.where(spawn_diver, DIVER_SPAWN_SPEED, s["d_spawn_timer"])

        # -- player ------------------------------------------------------------------------
        x, y, right = s["sub_x"], s["sub_y"], s["sub_right"]
        fire = (codes == FIRE) & (s["shot_timer"] == 0)
        slot = _first(~s["fbullet_present"]) & col(fire)
        s["fbullet_x"] = torch.where(slot, col(x), s["fbullet_x"])
        s["fbullet_y"] = torch.where(slot, col(y), s["fbullet_y"])
        s["fbullet_right"] = torch.where(slot, col(right), s["fbullet_right"])
        s["fbullet_present"] = s["fbullet_present"] | slot
        shot_timer = torch.where(fire, SHOT_COOL_DOWN, s["shot_timer"])
        right = torch.where(codes == LEFT, False, torch.where(codes == RIGHT, True, right))
        x = torch.where(codes == LEFT, (x - 1).clamp(min=0), torch.where(codes == RIGHT, (x + 1).clamp(max=GRID - 1), x))
        y = torch.where(codes == UP, (y - 1).clamp(min=0), torch.where(codes == DOWN, (y + 1).clamp(max=GRID - 2), y))
        at_sub = lambda ox, oy: (ox == col(x)) & (oy == col(y))  # noqa: E731

        # -- friendly bullets: move, then each hits at most one enemy (fish before subs) --
        bx = step_toward(s["fbullet_x"], s["fbullet_right"])
        b_alive = s["fbullet_present"] & ~_outside(bx)
        by = s["fbullet_y"]
        enemy_alive = s["enemy_present"]
        for b in reversed(range(BULLET_SLOTS)):
            here = enemy_alive & (s["enemy_x"] == bx[:, b : b + 1]) & (s["enemy_y"] == by[:, b : b + 1]) & b_alive[:, b : b + 1]
            fish_here = here & ~s["enemy_is_sub"]
            has_fish = fish_here.any(dim=1)
            victim = torch.where(col(has_fish), _first(fish_here), _first(here & s["enemy_is_sub"]))
            hit = victim.any(dim=1)
            enemy_alive = enemy_alive & ~victim
            b_alive[:, b] = b_alive[:, b] & ~hit
            reward = reward + hit.to(torch.int32)

        # -- divers (sequential: the 6-diver cap depends on pick-ups earlier in the list) ---
        carried = s["divers_on_board"]
        dx, d_alive, d_timer = s["diver_x"].clone(), s["diver_present"].clone(), s["diver_move_timer"].clone()
        dy = s["diver_y"]
        for d in reversed(range(DIVER_SLOTS)):
            alive = d_alive[:, d]
            pick_now = alive & (dx[:, d] == x) & (dy[:, d] == y) & (carried < MAX_DIVERS_ON_BOARD)
            carried = carried + pick_now.to(torch.int32)
            swims = alive & ~pick_now & (d_timer[:, d] == 0)
            new_x = torch.where(swims, step_toward(dx[:, d], s["diver_right"][:, d]), dx[:, d])
            leaves = swims & _outside(new_x)
            pick_after = swims & ~leaves & (new_x == x) & (dy[:, d] == y) & (carried < MAX_DIVERS_ON_BOARD)
            carried = carried + pick_after.to(torch.int32)
            d_timer[:, d] = torch.where(swims, DIVER_MOVE_INTERVAL, torch.where(alive & ~pick_now, d_timer[:, d] - 1, d_timer[:, d]))
            dx[:, d] = new_x
            d_alive[:, d] = alive & ~pick_now & ~leaves & ~pick_after
        s["diver_x"], s["diver_present"], s["diver_move_timer"] = dx, d_alive, d_timer

        # -- enemies: subs, then (after enemy bullets) fish -------------------------------
        ex, ey, e_timer, e_right = s["enemy_x"], s["enemy_y"], s["enemy_move_timer"], s["enemy_right"]
        move_speed = s["move_speed"]

        def advance_enemies(kind_mask, ex, e_timer, enemy_alive, b_alive, reward, terminal):
            terminal = terminal | (kind_mask & at_sub(ex, ey)).any(dim=1)
            moves = kind_mask & (e_timer == 0)
            e_timer = torch.where(moves, col(move_speed), torch.where(kind_mask, e_timer - 1, e_timer))
            ex = torch.where(moves, step_toward(ex, e_right), ex)
            leaves = moves & _outside(ex)
            enemy_alive = enemy_alive & ~leaves
            rams = moves & ~leaves & at_sub(ex, ey)
            terminal = terminal | rams.any(dim=1)
            can_be_shot = moves & ~leaves & ~rams
            for b in range(BULLET_SLOTS):
                here = can_be_shot & enemy_alive & (ex == bx[:, b : b + 1]) & (ey == by[:, b : b + 1]) & b_alive[:, b : b + 1]
                victim = _first(here)
                hit = victim.any(dim=1)
                enemy_alive = enemy_alive & ~victim
                b_alive[:, b] = b_alive[:, b] & ~hit
                reward = reward + hit.to(torch.int32)
            return ex, e_timer, enemy_alive, reward, terminal

        subs = enemy_alive & s["enemy_is_sub"]
        ex, e_timer, enemy_alive, reward, terminal = advance_enemies(subs, ex, e_timer, enemy_alive, b_alive, reward, terminal)
        # Every sub that started the frame fires on schedule, even one shot or gone this frame.
        shoots = subs & (s["enemy_shot_timer"] == 0)
        enemy_shot_timer = torch.where(shoots, ENEMY_SHOT_INTERVAL, torch.where(subs, s["enemy_shot_timer"] - 1, s["enemy_shot_timer"]))
        eb_x = torch.where(shoots, ex, s["ebullet_x"])
        eb_y = torch.where(shoots, ey, s["ebullet_y"])
        eb_right = torch.where(shoots, e_right, s["ebullet_right"])
        eb_alive = s["ebullet_present"] | shoots

        terminal = terminal | (eb_alive & at_sub(eb_x, eb_y)).any(dim=1)
        eb_x = torch.where(eb_alive, step_toward(eb_x, eb_right), eb_x)
        eb_alive = eb_alive & ~_outside(eb_x)
        terminal = terminal | (eb_alive & at_sub(eb_x, eb_y)).any(dim=1)

        fish = enemy_alive & ~s["enemy_is_sub"]
        ex, e_timer, enemy_alive, reward, terminal = advance_enemies(fish, ex, e_timer, enemy_alive, b_alive, reward, terminal)

        # -- timers, oxygen, surfacing -----------------------------------------------------
        terminal = terminal | (s["oxygen"] < 0)
        submerged = y > 0
        oxygen = torch.where(submerged, s["oxygen"] - 1, s["oxygen"])
        arrives = ~submerged & ~s["surfaced"]
        terminal = terminal | (arrives & (carried == 0))
        surfaces = arrives & (carried != 0)
        full_crew = surfaces & (carried == MAX_DIVERS_ON_BOARD)
        reward = reward + torch.where(full_crew, oxygen * 10 // MAX_OXYGEN, 0)
        carried = torch.where(surfaces, torch.where(full_crew, 0, carried) - 1, carried)
        oxygen = torch.where(surfaces, MAX_OXYGEN, oxygen)
        e_spawn_speed, ramp_index = s["e_spawn_speed"], s["ramp_index"]
        ramps = surfaces & ((e_spawn_speed > 1) | (move_speed > 2))
        move_speed = torch.where(ramps & (move_speed > 2) & (ramp_index % 2 == 1), move_speed - 1, move_speed)
        e_spawn_speed = torch.where(ramps & (e_spawn_speed > 1), e_spawn_speed - 1, e_spawn_speed)
        ramp_index = ramp_index + ramps.to(torch.int32)

        s.update({
            "oxygen": oxygen, "divers_on_board": carried, "sub_x": x, "sub_y": y, "sub_right": right,
            "e_spawn_speed": e_spawn_speed, "e_spawn_timer": (e_spawn_timer - 1).clamp(min=0),
            "d_spawn_timer": (d_spawn_timer - 1).clamp(min=0), "move_speed": move_speed,
            "ramp_index": ramp_index, "shot_timer": (shot_timer - 1).clamp(min=0),
            "surfaced": submerged.logical_not() & (s["surfaced"] | surfaces),
            "enemy_x": ex, "enemy_move_timer": e_timer, "enemy_present": enemy_alive,
            "enemy_shot_timer": enemy_shot_timer,
            "fbullet_x": bx, "fbullet_present": b_alive,
            "ebullet_x": eb_x, "ebullet_y": eb_y, "ebullet_right": eb_right, "ebullet_present": eb_alive,
        })
        return s, reward.to(torch.float32), terminal

    def _observe(self, s: State) -> torch.Tensor:
        x, y = s["sub_x"], s["sub_y"]
        front = cell_mask(y, x)
        back = cell_mask(y, step_toward(x, ~s["sub_right"]))
        present, is_sub = s["enemy_present"], s["enemy_is_sub"]
        enemy_back = step_toward(s["enemy_x"], ~s["enemy_right"])
        diver_back = step_toward(s["diver_x"], ~s["diver_right"])
        trail = cells_mask(s["enemy_y"], enemy_back, present) | cells_mask(s["diver_y"], diver_back, s["diver_present"])
        cols = torch.arange(GRID, device=x.device).view(1, GRID)
        bottom = (torch.arange(GRID, device=x.device) == GRID - 1).view(1, GRID, 1)
        oxygen_cells = cols < (s["oxygen"].clamp(min=0) * 10 // MAX_OXYGEN).view(-1, 1)
        carried = s["divers_on_board"].view(-1, 1)
        diver_cells = (cols >= GRID - 1 - carried) & (cols < GRID - 1)
        return torch.stack(
            [
                front,
                back,
                cells_mask(s["fbullet_y"], s["fbullet_x"], s["fbullet_present"]),
                trail,
                cells_mask(s["ebullet_y"], s["ebullet_x"], s["ebullet_present"]),
                cells_mask(s["enemy_y"], s["enemy_x"], present & ~is_sub),
                cells_mask(s["enemy_y"], s["enemy_x"], present & is_sub),
                bottom & oxygen_cells.view(-1, 1, GRID),
                bottom & diver_cells.view(-1, 1, GRID),
                cells_mask(s["diver_y"], s["diver_x"], s["diver_present"]),
            ],
            dim=1,
        )
