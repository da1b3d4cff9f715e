"""The base of every model: immutable, strict about unknown fields, so a typo in an order file is
an error that names the field instead of a silently ignored key."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
