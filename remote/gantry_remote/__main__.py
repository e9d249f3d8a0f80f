"""`python3 -m gantry_remote <cmd> …`.

`train` is dispatched before anything else is imported so the stdlib-only commands never
pay for (or fail on) torch; on a GPU its CUDA context starts being created before torch is
imported (cuda_early.py), so the two overlap.
"""
import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0] == "train":
        from .cuda_early import start

        early_context = start(argv[1:])
        from .ppo import main as train_main

        return train_main(argv[1:], early_context)
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
