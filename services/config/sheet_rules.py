"""Changing a rate sheet (admin): its name at once; its decimals, rounding, block mode and
time zone as a new rule version from an effective moment. No spyne here.

Why versions and not an edit of the sheet's columns: a CDR is priced again by RerateCdrs,
by the re-rating of unrated calls and by exports, and each must give the price the call
had, so a rule that alters prices applies to calls that start at or after its moment,
never to an older one (rating/plan.py picks the version by the call's start). The
moment may not be in the past: a call that already started, and maybe was rated, keeps
the rule it started under. See docs/rates.md, "Rule versions".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db import schema
from db.config_schema import SheetRuleVersion
from db.rates import bump_version
from db.session import UnitOfWork
from rating.errors import AlreadyExists, InvalidInput, NotFound
from services.common.caller import Caller, require_role
from services.config.usecases import MAX_NAME, check_rule


@dataclass(frozen=True)
class SheetChanges:
    """What to change; None leaves a field as it is. `effective_from` (aware, default
    now) is when a change of the rule fields starts to apply."""

    name: str | None = None
    decimals: int | None = None
    rounding: str | None = None
    block_mode: str | None = None
    timezone: str | None = None
    effective_from: datetime | None = None


@dataclass(frozen=True)
class Rule:
    """One rule of a sheet; `effective_from` None for the sheet's first rule (its own
    columns), which applies to every call before the first version."""

    effective_from: datetime | None
    decimals: int
    rounding: str
    block_mode: str
    timezone: str


@dataclass(frozen=True)
class SheetRules:
    sheet: schema.RateSheet
    rate_count: int
    rules: list[Rule]  # oldest first


def update_rate_sheet(
    uow: UnitOfWork, caller: Caller, sheet_id: int, changes: SheetChanges, now: datetime
) -> SheetRules:
    """Rename the sheet and/or add a rule version; bumps the sheet's version (so every
    worker recompiles its plan) when anything changed. Nothing changes on a bad value."""
    require_role(caller, "admin")
    session = uow.session
    # The row lock serialises two changes of one sheet (and an import of its rates).
    sheet = session.get(schema.RateSheet, sheet_id, with_for_update=True)
    if sheet is None:
        raise NotFound(f"rate sheet {sheet_id} not found")
    rules = sheet_rules(uow, sheet)
    new_rule = _new_rule(rules, changes, now)
    name = _checked_name(changes.name)
    changed = new_rule is not None or (name is not None and name != sheet.name)
    if name is not None and name != sheet.name:
        sheet.name = name
        try:
            session.flush()
        except IntegrityError:
            raise AlreadyExists(f"a rate sheet named {name!r} already exists") from None
    if new_rule is not None:
        session.add(SheetRuleVersion(sheet_id=sheet.id, **new_rule.__dict__))
        rules.append(new_rule)
    if changed:
        bump_version(session, sheet.id)
    uow.commit()
    session.refresh(sheet)
    count = session.scalar(select(func.count()).where(schema.Rate.sheet_id == sheet.id))
    return SheetRules(sheet, int(count or 0), rules)


def sheet_rules(uow: UnitOfWork, sheet: schema.RateSheet) -> list[Rule]:
    """The sheet's rules, its first (its own columns) then each version by moment."""
    first = Rule(None, sheet.decimals, sheet.rounding, sheet.block_mode, sheet.timezone)
    versions = uow.session.scalars(
        select(SheetRuleVersion)
        .where(SheetRuleVersion.sheet_id == sheet.id)
        .order_by(SheetRuleVersion.effective_from)
    )
    return [first] + [
        Rule(v.effective_from, v.decimals, v.rounding, v.block_mode, v.timezone) for v in versions
    ]


def _new_rule(rules: list[Rule], changes: SheetChanges, now: datetime) -> Rule | None:
    """The version the changes make, or None when they alter no rule field."""
    latest = rules[-1]
    rule = Rule(
        effective_from=changes.effective_from or now,
        decimals=latest.decimals if changes.decimals is None else changes.decimals,
        rounding=changes.rounding or latest.rounding,
        block_mode=changes.block_mode or latest.block_mode,
        timezone=changes.timezone or latest.timezone,
    )
    check_rule(rule.decimals, rule.rounding, rule.block_mode, rule.timezone)
    if (rule.decimals, rule.rounding, rule.block_mode, rule.timezone) == (
        latest.decimals,
        latest.rounding,
        latest.block_mode,
        latest.timezone,
    ):
        return None  # same prices: no version, whatever the moment
    moment = rule.effective_from
    assert moment is not None
    if moment.tzinfo is None:
        raise InvalidInput("effective_from: give the moment with its offset (UTC)")
    if moment < now:
        raise InvalidInput(
            f"effective_from: {moment.isoformat()} is in the past; a change applies from now"
            " on (leave it out for now), never to calls that already started"
        )
    if latest.effective_from is not None and moment <= latest.effective_from:
        raise InvalidInput(
            f"effective_from: must be after the latest version, {latest.effective_from.isoformat()}"
        )
    return rule


def _checked_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name: 1 to {MAX_NAME} characters")
    return name
