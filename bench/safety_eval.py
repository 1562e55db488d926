"""Emergency detection, measured: recall on emergency phrasings and false alarms on everyday look-alikes.

    .venv/bin/python bench/safety_eval.py [--model models/care.tar.gz] [--no-model]

For each set in tests/fixtures/safety/ it prints three rows: the keyword net alone (common/safety.py), the
trained classifier alone (DIET's own intent, before the net), and what the assistant does (the whole NLU
pipeline: classifier + net). The sets were written apart from data/; each file's header says whether the net
was tuned after seeing it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common.safety import is_emergency  # noqa: E402

# the sets the tests assert on, then the blind ones (blind/: measured here only, never tuned on)
SAFETY = ROOT / "tests" / "fixtures" / "safety"
SETS = sorted(SAFETY.glob("emergency_*.yml")) + sorted((SAFETY / "blind").glob("emergency_*.yml"))


def rates(emergencies: list[bool], everyday: list[bool]) -> str:
    recall = sum(emergencies) / len(emergencies)
    alarms = sum(everyday) / len(everyday)
    return (
        f"recall {recall:6.1%} ({sum(emergencies)}/{len(emergencies)})   false alarms {alarms:5.1%} "
        f"({sum(everyday)}/{len(everyday)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "care.tar.gz"))
    parser.add_argument("--no-model", action="store_true", help="the keyword net only")
    args = parser.parse_args()
    agent = None
    if not args.no_model:
        from rasa.core.agent import Agent

        agent = Agent.load(args.model)

    def classify(text: str) -> tuple[str, str]:
        """(the classifier's intent before the net, the pipeline's final intent)"""
        assert agent is not None  # only called with a model loaded
        parsed = asyncio.run(agent.parse_message(text))
        before = (parsed.get("classified_as") or parsed["intent"]).get("name") or ""
        return before, parsed["intent"]["name"]

    for path in SETS:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        blind = " [blind: never tuned on]" if path.parent.name == "blind" else ""
        print(f"{path.stem}{blind} ({len(data['emergency'])} emergencies, {len(data['everyday'])} everyday)")
        net = rates([is_emergency(t) for t in data["emergency"]], [is_emergency(t) for t in data["everyday"]])
        print(f"  keyword net alone    {net}")
        if agent is None:
            continue
        em = [classify(t) for t in data["emergency"]]
        ev = [classify(t) for t in data["everyday"]]
        print(f"  classifier alone     {rates([b == 'emergency' for b, _ in em], [b == 'emergency' for b, _ in ev])}")
        print(f"  the assistant        {rates([f == 'emergency' for _, f in em], [f == 'emergency' for _, f in ev])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
