"""The condition, drug-class and rule tables of docs/screening.md, generated from the data files.

``uv run python -m tests.screening_docs`` rewrites the generated sections in place;
``tests/test_screening_rules.py`` fails when the document and the data disagree.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "screening.md"
SECTION = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def _data(name: str) -> dict:
    text = (resources.files("communitas.safety.screening") / "data" / name).read_text(encoding="utf-8")
    return json.loads(text)


def _row(*cells: str) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def conditions() -> list[str]:
    rules = _data("rules.json")
    lines = ["| Code | Label | Rules that read it |", "|---|---|---|"]
    for condition in rules["conditions"]:
        used: list[str] = []
        for rule in rules["rules"]:
            for trigger in rule["triggers"]:
                if trigger["type"] in ("condition", "family_history") and condition["code"] in trigger["codes"]:
                    tag = rule["id"] + (" (family history)" if trigger["type"] == "family_history" else "")
                    used += [tag] if tag not in used else []
        lines.append(_row(f"`{condition['code']}`", condition["label"], ", ".join(used) or "none (for the clinician)"))
    return lines


def classes() -> list[str]:
    rules, drugs = _data("rules.json"), _data("drugs.json")
    lines = ["| Class | Label | Medicines in the table (generic names) | Rules |", "|---|---|---|---|"]
    for drug_class in drugs["classes"]:
        code = drug_class["code"]
        names = [drug["name"] for drug in drugs["drugs"] if code in drug["classes"]]
        used = [
            rule["id"]
            for rule in rules["rules"]
            if any(t["type"] == "drug_class" and code in t["codes"] for t in rule["triggers"])
        ]
        lines.append(_row(f"`{code}`", drug_class["label"], ", ".join(names), ", ".join(used) or "none"))
    return lines


def rules() -> list[str]:
    header = "| ID | Title | Substances | Jurisdictions | Severity | Evidence | Overridable | Escalate | Source |"
    lines = [header, "|---|---|---|---|---|---|---|---|---|"]
    for rule in _data("rules.json")["rules"]:
        lines.append(
            _row(
                rule["id"],
                rule["title"],
                ", ".join(rule["substances"]),
                ", ".join(rule.get("jurisdictions") or ["everywhere"]),
                rule["severity"],
                rule["evidence_grade"],
                "yes" if rule.get("overridable", True) else "**no**",
                "**yes**" if rule.get("escalate") else "no",
                rule["source"],
            )
        )
    return lines


GENERATORS = {"conditions": conditions, "classes": classes, "rules": rules}


def sections(text: str) -> dict[str, str]:
    """The generated sections of the document as they are now."""
    return {match.group(2): match.group(3) for match in SECTION.finditer(text)}


def expected(name: str) -> str:
    return "\n".join(GENERATORS[name]()) + "\n"


def regenerate(text: str) -> str:
    return SECTION.sub(lambda m: m.group(1) + expected(m.group(2)) + m.group(4), text)


if __name__ == "__main__":
    DOC.write_text(regenerate(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the generated tables in {DOC}")
