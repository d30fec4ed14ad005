"""Settings in one place: database URL, force file, the force's configuration (catalogue, rulesets,
forms and extract definitions folders, or a config folder holding them), DEFAULT_* constants."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from engine.core.config_folder import CATALOGUE_NAME, ConfigFolder, resolve_config_folder
from engine.core.errors import ConfigError, Problem, ProblemsError
from engine.core.recipients import Recipient, read_recipients
from engine.core.shape import ShapeChecker
from engine.core.yamlio import LineDict, LineList, load_yaml

ENV_DATABASE_URL = "QAM_DATABASE_URL"
ENV_FORCE = "QAM_FORCE"
ENV_RULESETS = "QAM_RULESETS"
ENV_FORMS = "QAM_FORMS"
ENV_EXTRACTS = "QAM_EXTRACTS"

DEFAULT_DATABASE_FILE = "qam.db"
DEFAULT_OUT_DIR = Path("outputs")
SETTINGS_ALLOWED = ("urban", "rural")

_PACKAGE_DIR = Path(__file__).resolve().parent.parent
_CHECKOUT_DIR = _PACKAGE_DIR.parent
DEFAULT_FORCE_FILE = _PACKAGE_DIR / "data" / "demo_force.yaml"


def _resource_dir(name: str) -> Path:
    """The checkout's top-level folder when run from a checkout, else the copy bundled in the wheel."""
    checkout = _CHECKOUT_DIR / name
    if checkout.is_dir():
        return checkout
    return _PACKAGE_DIR / "_bundled" / name


DEFAULT_RULESETS_DIR = _resource_dir("rulesets")
DEFAULT_FORMS_DIR = _resource_dir("qa_forms")
#: the extract definitions: each declares the metrics a figures extract may carry (docs/extracts.md)
DEFAULT_EXTRACTS_DIR = _resource_dir("extracts")
#: the 12x12 catalogue: priorities, PEEL pillars, I-SERVE strands and items (docs/catalogue.md)
DEFAULT_CATALOGUE_FILE = next(
    (p for p in (_CHECKOUT_DIR / CATALOGUE_NAME,) if p.is_file()), _PACKAGE_DIR / "_bundled" / CATALOGUE_NAME
)
#: officers' roles and their key aspects (docs/officers.md); a config folder's own roles.yaml wins
DEFAULT_ROLES_FILE = next(
    (p for p in (_CHECKOUT_DIR / "roles.yaml",) if p.is_file()), _PACKAGE_DIR / "_bundled" / "roles.yaml"
)
#: the Learning Review calendar (docs/reviews.md); a config folder's own reviews.yaml wins
DEFAULT_REVIEWS_FILE = next(
    (p for p in (_CHECKOUT_DIR / "reviews.yaml",) if p.is_file()), _PACKAGE_DIR / "_bundled" / "reviews.yaml"
)


@dataclass(frozen=True)
class Place:
    """A district with a place leader (docs/force-file.md)."""

    code: str
    name: str
    division: str
    leader: str
    setting: str  # urban | rural
    #: who receives its briefing by e-mail (qam deliver; docs/delivery.md)
    recipients: tuple[Recipient, ...] = ()


@dataclass(frozen=True)
class Force:
    """The force configuration: its places and any ruleset setting overrides."""

    name: str
    places: tuple[Place, ...]
    path: str
    sha256: str
    setting_overrides: Mapping[str, Mapping[str, int | str]] = field(default_factory=dict)
    #: who receives force.pdf by e-mail (qam deliver; docs/delivery.md)
    recipients: tuple[Recipient, ...] = ()

    @property
    def place_codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.places)

    def place(self, code: str) -> Place:
        for p in self.places:
            if p.code == code:
                return p
        raise KeyError(code)


@dataclass(frozen=True)
class Settings:
    """Where things are. Built by :func:`load_settings` from arguments and the environment."""

    database_url: str
    force_file: Path
    rulesets_dir: Path
    forms_dir: Path
    extracts_dir: Path = DEFAULT_EXTRACTS_DIR
    catalogue_file: Path = DEFAULT_CATALOGUE_FILE
    roles_file: Path = DEFAULT_ROLES_FILE
    reviews_file: Path = DEFAULT_REVIEWS_FILE
    #: the force's configuration folder, when one is named (force file's config: or QAM_CONFIG)
    config: ConfigFolder | None = None
    #: what the configuration fell back on (a part the config folder does not hold), for users
    notes: tuple[str, ...] = ()


def load_settings(
    *,
    force_file: Path | None = None,
    database_url: str | None = None,
    rulesets_dir: Path | None = None,
    forms_dir: Path | None = None,
    extracts_dir: Path | None = None,
    config_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve settings: explicit argument, then environment variable, then the force's config
    folder (``config_dir``, QAM_CONFIG or the force file's ``config:``), then the bundled default.
    ConfigError when a config folder is named that does not exist or holds no catalogue.yaml."""
    env = os.environ if environ is None else environ
    force = force_file or (Path(env[ENV_FORCE]) if env.get(ENV_FORCE) else DEFAULT_FORCE_FILE)
    folder = resolve_config_folder(force, explicit=config_dir, environ=env)
    own: dict[str, Path | None] = {
        name: folder.part(name) if folder else None for name in ("rulesets", "qa_forms", "extracts")
    }
    notes: list[str] = []

    def pick(given: Path | None, variable: str, part: str, default: Path) -> Path:
        if given is not None:
            return given
        if env.get(variable):
            return Path(env[variable])
        if own[part] is None and folder is not None:
            notes.extend(n for n in folder.missing_notes() if f" no {part}/" in n)
        return own[part] or default

    return Settings(
        database_url=database_url or env.get(ENV_DATABASE_URL) or f"sqlite:///{DEFAULT_DATABASE_FILE}",
        force_file=force,
        rulesets_dir=pick(rulesets_dir, ENV_RULESETS, "rulesets", DEFAULT_RULESETS_DIR),
        forms_dir=pick(forms_dir, ENV_FORMS, "qa_forms", DEFAULT_FORMS_DIR),
        extracts_dir=pick(extracts_dir, ENV_EXTRACTS, "extracts", DEFAULT_EXTRACTS_DIR),
        catalogue_file=folder.catalogue_file if folder else DEFAULT_CATALOGUE_FILE,
        roles_file=r if folder and (r := folder.path / "roles.yaml").is_file() else DEFAULT_ROLES_FILE,
        reviews_file=v if folder and (v := folder.path / "reviews.yaml").is_file() else DEFAULT_REVIEWS_FILE,
        config=folder,
        notes=tuple(notes),
    )


#: the code exceptions, aggregates and actions of the force as a whole go under; no place may have it
RESERVED_PLACE_CODE = "FORCE"


class _PlaceSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z0-9]{2,8}$", error="must be 2-8 capital letters or digits"),
    )
    name = fields.String(required=True, validate=validate.Length(min=1))
    division = fields.String(required=True, validate=validate.Length(min=1))
    leader = fields.String(required=True, validate=validate.Length(min=1))
    setting = fields.String(
        required=True,
        validate=validate.OneOf(SETTINGS_ALLOWED, error="must be one of urban, rural (got '{input}')"),
    )
    recipients = fields.Raw(load_default=None)  # checked by read_recipients, with lines


class _ForceSchema(Schema):
    force = fields.String(required=True, validate=validate.Length(min=1))
    places = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1))
    settings = fields.Dict(keys=fields.String(), values=fields.Dict(), load_default=dict)
    config = fields.Raw(load_default=None)  # checked by resolve_config_folder, with its line
    recipients = fields.Raw(load_default=None)  # checked by read_recipients, with lines


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested messages -> [(field path, message)]."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            out.extend(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.extend((prefix, m) for m in messages)
    elif isinstance(messages, list):
        for m in messages:
            out.extend(_flatten(m, prefix))
    else:
        out.append((prefix, str(messages)))
    return out


def load_force(path: Path) -> Force:
    """Read and validate a force file; every problem is reported at once, naming file, line and field."""
    data = load_yaml(path)
    source = str(path)
    problems: list[Problem] = []
    check = ShapeChecker(source, problems)
    if check.mapping(data, 1, "a force file", contents="'force' and 'places'") is None:
        raise ConfigError(problems[0].message, location=problems[0].location)
    assert isinstance(data, LineDict)  # every mapping load_yaml returns is one

    def problem(field_path: str, message: str, *, line_path: str | None = None) -> None:
        check.problem(_line_of_path(data, line_path or field_path), message, field_path)

    try:
        top = _ForceSchema().load(dict(data))
    except ValidationError as exc:
        for fpath, msg in _flatten(exc.messages):
            problem(fpath, msg)
        raise ProblemsError("invalid force file", problems) from None

    places: list[Place] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(top["places"]):
        try:
            p = _PlaceSchema().load(dict(raw))
        except ValidationError as exc:
            for fpath, msg in _flatten(exc.messages):
                problem(f"places.{i}.{fpath}", msg)
            continue
        line = _line_of_path(data, f"places.{i}")
        if p["code"] == RESERVED_PLACE_CODE:
            problem(
                f"places.{i}.code",
                f"place code '{RESERVED_PLACE_CODE}' is reserved: it stands for the force as a whole "
                "(its force-level exceptions, aggregates and actions)",
                line_path=f"places.{i}",
            )
            continue
        if p["code"] in seen:
            problem(
                f"places.{i}.code",
                f"duplicate place code '{p['code']}' (first at line {seen[p['code']]})",
                line_path=f"places.{i}",
            )
            continue
        seen[p["code"]] = line
        p["recipients"] = read_recipients(p["recipients"], f"places.{i}.recipients", problem)
        places.append(Place(**p))
    overrides: dict[str, dict[str, int | str]] = {}
    for ruleset_id, values in top["settings"].items():
        for name, value in values.items():
            if not isinstance(value, int | str) or isinstance(value, bool):
                problem(
                    f"settings.{ruleset_id}.{name}",
                    "a setting must be a whole number or text",
                    line_path=f"settings.{ruleset_id}",
                )
        overrides[ruleset_id] = dict(values)
    recipients = read_recipients(top["recipients"], "recipients", problem)
    if top["config"] is not None:
        try:
            resolve_config_folder(path, environ={})
        except ConfigError as exc:
            problem("config", exc.message)
    if problems:
        raise ProblemsError("invalid force file", problems)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Force(
        name=top["force"],
        places=tuple(places),
        path=source,
        sha256=digest,
        setting_overrides=overrides,
        recipients=recipients,
    )


def _line_of_path(data: LineDict, field_path: str) -> int:
    """The line of a dotted field path ('places.2.code'): of its deepest part present in the file."""
    node: Any = data
    line = data.line
    for part in field_path.split("."):
        if isinstance(node, LineDict) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LineList) and part.isdigit() and int(part) < len(node):
            line = node.line_of(int(part))
            node = node[int(part)]
        else:
            break
    return line
