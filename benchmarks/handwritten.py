"""party-office's table as a hand-written Python function: the limit for pure Python.

Straight if-statements over the incident dict as it arrives (JSON-native values, no
validation), one per compiled rule, written by hand from ``rulesets/party-office/*.yaml``.
It returns the ids of the rules that fire; ``run.py`` checks them against the python
engine's fired rules on every incident it times, so an edit of the ruleset that this file
does not follow shows up as disagreements, not as a silently wrong speed.

Semantics as in the condition language: a test on a missing field is false, ``not`` of it
true; a boolean test needs a real boolean (``is True``).
"""

from __future__ import annotations

from typing import Any

_ERROR_TYPE = {
    "typo": "DRF-01",
    "data_error": "DRF-02",
    "political_wording": "DRF-03",
    "format_error": "DRF-04",
    "wrong_citation": "DRF-05",
    "draft_overdue": "DRF-06",
    "doc_overdue": "DOC-01",
    "doc_misdelivered": "DOC-02",
    "doc_register_error": "DOC-03",
    "unsigned_issue": "DOC-04",
    "seal_error": "DOC-05",
    "meeting_notice_error": "MTG-01",
    "venue_arrangement": "MTG-02",
    "meeting_materials": "MTG-03",
    "info_late": "INF-01",
    "info_omitted": "INF-02",
    "info_inaccurate": "INF-03",
    "research_data_false": "RSC-01",
    "research_overdue": "RSC-02",
    "classified_doc_mishandled": "SEC-01",
    "cipher_telegram": "SEC-02",
    "classified_device_misuse": "SEC-03",
    "supervision_overdue": "SUP-01",
    "supervision_false_report": "SUP-02",
    "reception_attitude": "RCP-01",
    "reception_shirking": "RCP-02",
    "hospitality_arrangement": "RCP-03",
    "phone_record_error": "DUT-01",
    "duty_absent": "DUT-02",
    "notice_not_delivered": "DUT-03",
    "phone_unanswered": "DUT-04",
    "vehicle_failure": "LOG-01",
    "supplies_failure": "LOG-02",
    "asset_loss": "LOG-03",
    "coordination_failure": "CRD-01",
    "schedule_conflict": "CRD-02",
    "no_request_report": "CRD-03",
    "error_register_late": "CRD-04",
}

_SECRET = ("secret", "confidential", "top_secret")
_HIGH_EVENT = ("city", "province")


def fired(d: dict[str, Any]) -> list[str]:
    """Ids of the party-office rules that hold for incident ``d``."""
    out: list[str] = []
    add = out.append
    get = d.get

    # errors (差错界定标准): one per error_type, plus the cross-cutting 失泄密 clause
    code = _ERROR_TYPE.get(get("error_type"))  # type: ignore[arg-type]
    if code is not None:
        add(code)
    leaked = get("secret_leaked") is True
    level = get("secret_level")
    if leaked and level in _SECRET:
        add("SEC-04")

    # severity rules: each holds only with its own error (the compiler joins its condition
    # to the error's), so only the matched error's rules are tested
    ext = get("issued_externally") is True
    crit = get("leader_criticized") is True
    meet = get("meeting_affected") is True
    emerg = get("emergency") is True
    compl = get("complaint") is True
    event = get("event_level")
    delay = get("delay_days")
    loss = get("loss")
    if code == "DRF-01":
        if ext:
            add("DRF-01-R1")
    elif code == "DRF-02":
        if ext:
            add("DRF-02-R1")
        if crit:
            add("DRF-02-R2")
    elif code == "DRF-03":
        if ext:
            add("DRF-03-R1")
    elif code == "DRF-05":
        if ext:
            add("DRF-05-R1")
    elif code == "DRF-06":
        if meet:
            add("DRF-06-R1")
    elif code == "DOC-01":
        if delay is not None and delay >= 3:
            add("DOC-01-R1")
        if delay is not None and delay >= 10:
            add("DOC-01-R2")
    elif code == "DOC-02":
        if ext:
            add("DOC-02-R1")
        if level in _SECRET:
            add("DOC-02-R2")
    elif code == "DOC-04":
        if ext:
            add("DOC-04-R1")
    elif code == "DOC-05":
        if ext:
            add("DOC-05-R1")
    elif code == "MTG-01":
        if meet:
            add("MTG-01-R1")
        if event in _HIGH_EVENT:
            add("MTG-01-R2")
    elif code == "MTG-02":
        if event in _HIGH_EVENT:
            add("MTG-02-R1")
    elif code == "MTG-03":
        if meet:
            add("MTG-03-R1")
    elif code == "INF-01":
        if emerg:
            add("INF-01-R1")
    elif code == "INF-02":
        if emerg:
            add("INF-02-R1")
    elif code == "INF-03":
        if crit:
            add("INF-03-R1")
    elif code == "RSC-01":
        if crit:
            add("RSC-01-R1")
    elif code == "SEC-01":
        if level == "internal":
            add("SEC-01-R1")
        if leaked:
            add("SEC-01-R2")
    elif code == "SEC-02":
        if leaked:
            add("SEC-02-R1")
    elif code == "SUP-01":
        if delay is not None and delay >= 15:
            add("SUP-01-R1")
        if crit:
            add("SUP-01-R2")
    elif code == "RCP-01":
        if compl:
            add("RCP-01-R1")
    elif code == "RCP-02":
        if compl:
            add("RCP-02-R1")
    elif code == "RCP-03":
        if event in _HIGH_EVENT:
            add("RCP-03-R1")
    elif code == "DUT-01":
        if emerg:
            add("DUT-01-R1")
    elif code == "DUT-02":
        if emerg:
            add("DUT-02-R1")
    elif code == "DUT-03":
        if meet:
            add("DUT-03-R1")
    elif code == "DUT-04":
        if emerg:
            add("DUT-04-R1")
    elif code == "LOG-01":
        if meet:
            add("LOG-01-R1")
    elif code == "LOG-02":
        if loss is not None and loss >= 5000:
            add("LOG-02-R1")
    elif code == "LOG-03":
        if loss is not None and 10000 <= loss < 50000:
            add("LOG-03-R1")
        if loss is not None and loss >= 50000:
            add("LOG-03-R2")
    elif code == "CRD-01":
        if crit:
            add("CRD-01-R1")
    elif code == "CRD-02" and event in _HIGH_EVENT:  # the last: nothing else to fall to
        add("CRD-02-R1")

    # factors (从重、从轻、免予)
    adverse = get("adverse_effect") is True
    positive_loss = loss is not None and loss > 0
    self_found = get("self_found") is True
    in_time = get("corrected_in_time") is True
    drafter_prior = get("drafter_accountable_365d")
    handler_prior = get("handler_accountable_365d")
    if get("concealed") is True:
        add("concealment")
    if get("late_report") is True:
        add("late_report")
    if get("intentional") is True:
        add("intentional")
    if get("refused_to_correct") is True:
        add("refused_to_correct")
    if get("obstructed") is True:
        add("obstructed_investigation")
    if get("retaliated") is True:
        add("retaliation")
    if (drafter_prior is not None and drafter_prior >= 1) or (
        handler_prior is not None and handler_prior >= 1
    ):
        add("repeat_in_year")
    if adverse or positive_loss:
        add("loss_or_adverse_effect")
    if get("recovered_loss") is True:
        add("recovered_loss")
    if self_found and not in_time:
        add("self_reported")
    if get("cooperated") is True:
        add("cooperated")
    if get("pilot_reform") is True and get("intentional") is not True:
        add("pilot_reform")
    if self_found and in_time and not adverse and not positive_loss:
        add("self_corrected_no_loss")
    if get("forged_material") is True:
        add("misled_by_forgery")
    if get("force_majeure") is True:
        add("force_majeure")

    # responsibility (责任划分)
    overrode = get("reviewer_overrode") is True
    collective = get("collective_decision") is True
    caught = get("caught_in_review") is True
    if overrode:
        add("OVR-REVIEWER")
    if overrode:
        add("OVR-APPROVER")
    if collective:
        add("COL-CHAIR")
    if collective:
        add("COL-MEMBERS")
    if collective:
        add("COL-TEAM")
    if not overrode and not collective:
        add("DRF-DRAFTER")
    if not overrode and not collective and not caught:
        add("DRF-REVIEWER")
    if not overrode and not collective and not caught:
        add("DRF-APPROVER")
    if not collective:
        add("HDL-HANDLER")
    unit_month = get("unit_errors_month")
    unit_grave = get("unit_grave_2y")
    if (
        emerg
        or leaked
        or adverse
        or compl
        or meet
        or (loss is not None and loss >= 10000)
        or (unit_month is not None and unit_month >= 2)
        or (unit_grave is not None and unit_grave >= 1 and get("severity") in ("major", "grave"))
    ):
        add("HDL-OFFICE-HEAD")
    return out
