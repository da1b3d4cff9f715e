"""`python -m starters.payment_keys [--current]`: the keys that seal payment tokens for the
payments service (infra/token_seal.py).

Without options: a new key pair, as the lines to put in each side's environment. The private
key goes to the payments workers alone; the public one to whoever places orders (a process that
holds only the public key can seal a token, never open one). With `--current`: the public key
and key id in use here (`ORDERS_PAYMENTS_KEY`, or the data directory's development key), to
give to the placing side or to compare with the key id a refused token names.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra import cli
from infra.data_dir import data_dir
from infra.token_seal import (
    PRIVATE_KEY_VARIABLE,
    PUBLIC_KEY_VARIABLE,
    SealKeyError,
    new_private_key,
    public_key_of,
    sealing_key,
)


async def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.ArgumentParser(prog="python -m starters.payment_keys", description=__doc__)
    parser.add_argument(
        "--current", action="store_true", help="show the public key in use here, not a new pair"
    )
    args = parser.parse_args(argv)
    if args.current:
        try:
            key = sealing_key(data_dir())
        except SealKeyError as error:
            raise cli.BadInputError(str(error)) from error
        print(f"{PUBLIC_KEY_VARIABLE}={key.encoded}  # key id {key.key_id}")
        return cli.EXIT_OK
    private = new_private_key()
    print(f"{PRIVATE_KEY_VARIABLE}={private}  # the payments workers only")
    print(f"{PUBLIC_KEY_VARIABLE}={public_key_of(private)}  # whoever places orders")
    return cli.EXIT_OK


if __name__ == "__main__":
    cli.run(main)
