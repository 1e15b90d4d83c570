"""``.nt-secrets.yaml``, the options file of ``nt-secrets check`` (:mod:`nt_secrets.options`),
read and validated strictly with pydantic: loaded only when there is such a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nt_secrets.options import OptionsError
from policies.contract import redact

#: Longest config file read (it holds a few options).
MAX_CONFIG_BYTES: Final = 64 * 1024


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ConfigFile(BaseModel):
    """``.nt-secrets.yaml``: the options of ``nt-secrets check``, keys spelled as the flags."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=False)

    output_file: list[str] | None = Field(None, alias="output-file")
    soft_fail: bool | None = Field(None, alias="soft-fail")
    policy: list[str] | None = None
    skip_policy: list[str] | None = Field(None, alias="skip-policy")
    baseline: str | None = None
    create_baseline: str | None = Field(None, alias="create-baseline")
    profile: Literal["auto", "project", "universal"] | None = None
    policy_pack_config: str | None = Field(None, alias="policy-pack-config")
    format: Literal["text", "json", "markdown", "sarif"] | None = None
    jobs: int | None = Field(None, ge=1, le=256)

    @field_validator("output_file", "policy", "skip_policy", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _listed(value)


def read_config_file(path: Path) -> ConfigFile:
    """``path`` read and validated; OptionsError naming the file and the key at fault."""
    from policies.contract.yamlio import YamlProblem, load_yaml

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OptionsError(f"{path}: {exc.strerror or 'cannot be read'}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise OptionsError(
            f"{path}: {len(raw)} bytes; a config file has at most {MAX_CONFIG_BYTES}"
        )
    try:
        data = load_yaml(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OptionsError(f"{path}: not UTF-8 text") from None
    except YamlProblem as exc:
        raise OptionsError(f"{path}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise OptionsError(f"{path}: expected a mapping of options (see `nt-secrets check --help`)")
    try:
        return ConfigFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = redact.loc(err.get("loc", ())) or "(file)"
        if err.get("type") == "extra_forbidden":
            raise OptionsError(
                f"{path}: unknown key {where} (known: {', '.join(sorted(KEYS))})"
            ) from None
        raise OptionsError(f"{path}: {where}: {redact.pydantic_message(err)}") from None


KEYS: Final = frozenset(f.alias or name for name, f in ConfigFile.model_fields.items())
