"""What the assistant understands, measured on evaluation sets written apart from the training data.

    .venv/bin/python bench/nlu_eval.py [--model models/care.tar.gz] [--eval FILE_OR_DIR ...] [--json OUT.json]
        [--near-copies] [--cross-validation N [--config config.yml]] [--errors]
    .venv/bin/python bench/nlu_eval.py --compare BEFORE.tar.gz --model AFTER.tar.gz [--repeat 3]
    .venv/bin/python bench/nlu_eval.py --no-model --train config.yml CANDIDATE.yml

Every line of the evaluation sets (default: every .yml in tests/fixtures/nlu_eval/, Rasa NLU YAML with entity
annotations) goes through the model's whole NLU pipeline as the assistant runs it (Agent.parse_message: DIET, the
FallbackClassifier, the safety net of nlu_components/), and it prints:
  - accuracy overall, per intent group and per intent, the most frequent confusions (gold -> predicted),
  - the fallback rate (lines predicted nlu_fallback whose gold intent is not nlu_fallback),
  - entity precision / recall / F1 per entity: a predicted entity counts when its type and the exact text of its
    span equal a gold one's (a doctor's title, "Dr", aside),
  - CPU and wall time per message (each distinct text parsed once, after a warm-up) and the process's peak memory.
--near-copies compares every evaluation line with every training example (data/nlu/**/*.yml, entity markup
stripped) and lists those that are near-copies (see near_copies()): an evaluation set must not repeat the training
data, and its lines are never moved into it. --cross-validation N runs Rasa's N-fold NLU cross-validation on the
training data with --config (slow: N trainings) and prints its per-intent F1. --errors prints the misread lines:
they are for whoever changes the features, never material for training data.
--compare evaluates two models, each in a fresh process (its peak memory is its own), alternately --repeat times
(these shared cores vary from minute to minute: the smallest CPU per message of each is shown), and prints them
side by side. --train measures a forced `rasa train` of each config given (wall and CPU seconds, peak memory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EVAL_DIR = ROOT / "tests" / "fixtures" / "nlu_eval"
TRAINING_DIR = ROOT / "data" / "nlu"
DEFAULT_MODEL = ROOT / "models" / "care.tar.gz"
FALLBACK = "nlu_fallback"

# Intent groups of the issue "Understand what people actually write"; an intent of none of them is "other".
GROUPS: dict[str, tuple[str, ...]] = {
    "basic": ("greet", "goodbye", "thank", "affirm", "deny", "help", "menu", "bot_challenge", "out_of_scope"),
    "patient": ("get_*", "login", "logout", "switch_patient", "resend_code", "use_other_number"),
    "booking": ("book_appointment", "cancel_appointment", "reschedule_appointment"),
    "staff": ("staff_login", "search_patient", "patient_summary", "staff_more"),
    "safety": ("emergency", "talk_to_human", "ask_reminder", "stop_messages"),
}
OTHER = "other"

# near-copies: a line equal to a training example once normalised, or this close to one (rapidfuzz, 0-100).
# Not token_set_ratio: it is 100 whenever one text's words are a subset of the other's ("more more" and "show
# more", "cancel amma's appointment" and "cancel my appointment"), which flagged 785 of 1331 blind lines.
NEAR_COPY_SCORE = 90.0
# texts no evaluation set holds: they load TensorFlow's lazily built functions before anything is timed
WARM_UP = ("warm up the pipeline", "zzqx warm", "another warm up line 12")


def group_of(intent: str) -> str:
    for group, members in GROUPS.items():
        for member in members:
            if intent == member or (member.endswith("*") and intent.startswith(member[:-1])):
                return group
    return OTHER


@dataclass(frozen=True)
class Entity:
    entity: str
    span: str  # the exact text of the span in the message


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[Entity, ...]
    source: str


def _yaml_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")))
        elif path.exists():
            files.append(path)
    return files


# The training data marks a doctor with the title ("[Dr. Asha](practitioner)"), the blind set without ("dr
# [Asha](practitioner)"); the actions read the name after the title either way, so the title is not compared.
_TITLE = re.compile(r"^(?:dr\.?|doctor|doc)\s+", re.IGNORECASE)


def _span(entity: str, text: str) -> str:
    span = text.strip()
    return _TITLE.sub("", span) if entity == "practitioner" else span


def _spans(text: str, entities: Iterable[dict[str, Any]]) -> tuple[Entity, ...]:
    return tuple(
        Entity(str(e["entity"]), _span(str(e["entity"]), text[int(e["start"]) : int(e["end"])]))
        for e in entities
        if e.get("start") is not None and e.get("end") is not None
    )


def load_examples(paths: Iterable[Path]) -> list[Example]:
    """Every intent example of the Rasa NLU YAML files (or folders) given, with its annotated entity spans."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples: list[Example] = []
    for path in _yaml_files(paths):
        for message in load_data(str(path)).intent_examples:
            text = message.get("text") or ""
            examples.append(
                Example(text, message.get("intent"), _spans(text, message.get("entities") or []), path.name)
            )
    return examples


def load_eval_set(paths: Sequence[Path] | None = None) -> list[Example]:
    return load_examples(paths or [EVAL_DIR])


def training_texts(paths: Sequence[Path] | None = None) -> list[str]:
    """The training examples' texts, entity markup stripped (Rasa's reader does it)."""
    return [example.text for example in load_examples(paths or [TRAINING_DIR])]


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


@dataclass(frozen=True)
class NearCopy:
    eval_text: str
    training_text: str
    score: float
    how: str


def near_copies(
    eval_texts: Sequence[str], train_texts: Sequence[str], score: float = NEAR_COPY_SCORE
) -> list[NearCopy]:
    """Evaluation lines that are near-copies of a training example: equal once lower-cased and stripped of
    punctuation, or at least `score` by rapidfuzz's ratio (a few characters edited: typos, a dropped article) or
    token_sort_ratio (the same words reordered). One row per such line, with its closest training example."""
    from rapidfuzz import fuzz, process

    evals = [normalise(t) for t in eval_texts]
    trains = [normalise(t) for t in train_texts]
    exact = {t: i for i, t in enumerate(trains)}
    found: list[NearCopy] = []
    if not evals or not trains:
        return found
    matrices = {
        name: process.cdist(evals, trains, scorer=scorer, workers=1, dtype="float32")
        for name, scorer in (("ratio", fuzz.ratio), ("token_sort_ratio", fuzz.token_sort_ratio))
    }
    for i, text in enumerate(evals):
        if text in exact:
            found.append(NearCopy(eval_texts[i], train_texts[exact[text]], 100.0, "equal once normalised"))
            continue
        j, name = max(((int(m[i].argmax()), n) for n, m in matrices.items()), key=lambda jn: matrices[jn[1]][i][jn[0]])
        best = float(matrices[name][i][j])
        if best >= score:
            found.append(NearCopy(eval_texts[i], train_texts[j], best, name))
    return found


def unseen(examples: Sequence[Example], train_texts: Sequence[str]) -> tuple[list[Example], list[NearCopy]]:
    """The evaluation lines that no training example near-copies, and the near-copies left out. Short phrases
    ("more", "hi", "resend otp") can only be written a few ways, so a blind set and the training data meet on
    some by chance; those lines would measure memory, not understanding, and are not counted."""
    copies = near_copies([e.text for e in examples], train_texts)
    copied = {c.eval_text for c in copies}
    return [e for e in examples if e.text not in copied], copies


@dataclass(frozen=True)
class Parsed:
    intent: str
    confidence: float
    entities: tuple[Entity, ...]
    cpu_ms: float
    wall_ms: float


def load_agent(model: Path) -> Any:
    from rasa.core.agent import Agent

    return Agent.load(str(model))


def parse_all(agent: Any, texts: Sequence[str]) -> dict[str, Parsed]:
    """Each distinct text through the model's whole NLU pipeline, as the assistant parses a message, timed."""

    async def run() -> dict[str, Parsed]:
        for text in WARM_UP:
            await agent.parse_message(text)
        parsed: dict[str, Parsed] = {}
        for text in dict.fromkeys(texts):
            cpu, wall = time.process_time(), time.perf_counter()
            result = await agent.parse_message(text)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            intent = result.get("intent") or {}
            parsed[text] = Parsed(
                str(intent.get("name") or ""),
                float(intent.get("confidence") or 0.0),
                _spans(text, result.get("entities") or []),
                cpu * 1000,
                wall * 1000,
            )
        return parsed

    return asyncio.run(run())


@dataclass
class Tally:
    n: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else float("nan")


@dataclass
class EntityTally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        if self.tp == 0:
            return 0.0 if self.fp or self.fn else float("nan")
        return 2 * p * r / (p + r)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass
class Report:
    n: int = 0
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    intents: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    fallbacks: int = 0
    fallback_base: int = 0  # lines whose gold intent is not nlu_fallback
    entities: dict[str, EntityTally] = field(default_factory=lambda: defaultdict(EntityTally))
    cpu_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    errors: list[tuple[Example, Parsed]] = field(default_factory=list)
    load_s: float = float("nan")
    peak_rss_mb: float = float("nan")

    @property
    def fallback_rate(self) -> float:
        return self.fallbacks / self.fallback_base if self.fallback_base else float("nan")

    @property
    def entity_total(self) -> EntityTally:
        total = EntityTally()
        for tally in self.entities.values():
            total.tp, total.fp, total.fn = total.tp + tally.tp, total.fp + tally.fp, total.fn + tally.fn
        return total

    def as_dict(self) -> dict[str, Any]:
        def tally(t: Tally) -> dict[str, Any]:
            return {"n": t.n, "correct": t.correct, "accuracy": t.accuracy}

        def ent(t: EntityTally) -> dict[str, Any]:
            return {"tp": t.tp, "fp": t.fp, "fn": t.fn, "precision": t.precision, "recall": t.recall, "f1": t.f1}

        return {
            "n": self.n,
            "accuracy": self.overall.accuracy,
            "groups": {g: tally(t) for g, t in sorted(self.groups.items())},
            "intents": {i: tally(t) for i, t in sorted(self.intents.items())},
            "confusions": [[g, p, c] for (g, p), c in self.confusions.most_common()],
            "fallback_rate": self.fallback_rate,
            "fallbacks": self.fallbacks,
            "entities": {e: ent(t) for e, t in sorted(self.entities.items())},
            "entities_micro": ent(self.entity_total),
            "cpu_ms_per_message": sum(self.cpu_ms) / len(self.cpu_ms) if self.cpu_ms else float("nan"),
            "wall_ms_per_message": sum(self.wall_ms) / len(self.wall_ms) if self.wall_ms else float("nan"),
            "wall_ms_p50": _pct(self.wall_ms, 50),
            "wall_ms_p95": _pct(self.wall_ms, 95),
            "load_s": self.load_s,
            "peak_rss_mb": self.peak_rss_mb,
        }


def score(examples: Sequence[Example], parsed: dict[str, Parsed]) -> Report:
    report = Report(n=len(examples))
    for example in examples:
        got = parsed[example.text]
        right = got.intent == example.intent
        for tally in (report.overall, report.groups[group_of(example.intent)], report.intents[example.intent]):
            tally.n += 1
            tally.correct += right
        if not right:
            report.confusions[(example.intent, got.intent)] += 1
            report.errors.append((example, got))
        if example.intent != FALLBACK:
            report.fallback_base += 1
            report.fallbacks += got.intent == FALLBACK
        gold, predicted = Counter(example.entities), Counter(got.entities)
        for entity in set(gold) | set(predicted):
            matched = min(gold[entity], predicted[entity])
            tally_e = report.entities[entity.entity]
            tally_e.tp += matched
            tally_e.fp += predicted[entity] - matched
            tally_e.fn += gold[entity] - matched
    for got in parsed.values():
        report.cpu_ms.append(got.cpu_ms)
        report.wall_ms.append(got.wall_ms)
    return report


def peak_rss_mb() -> float:
    """VmHWM of this process (what bench/run.py reads for the Rasa server)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def evaluate(agent: Any, examples: Sequence[Example]) -> Report:
    return score(examples, parse_all(agent, [e.text for e in examples]))


def evaluate_model(model: Path, examples: Sequence[Example]) -> Report:
    start = time.perf_counter()
    agent = load_agent(model)
    load_s = time.perf_counter() - start
    report = evaluate(agent, examples)
    report.load_s, report.peak_rss_mb = load_s, peak_rss_mb()
    return report


def _fmt(value: float) -> str:
    return "   n/a" if value != value else f"{value:6.1%}"


def print_report(report: Report, top: int = 20, errors: bool = False) -> None:
    print(f"{report.n} lines   accuracy {_fmt(report.overall.accuracy)} ({report.overall.correct}/{report.n})")
    print(
        f"fallback rate {_fmt(report.fallback_rate)} ({report.fallbacks}/{report.fallback_base} predicted {FALLBACK})"
    )
    print("\nper intent group")
    for group in [*GROUPS, OTHER]:
        if group in report.groups:
            t = report.groups[group]
            print(f"  {group:10s} {_fmt(t.accuracy)}  ({t.correct}/{t.n})")
    print("\nper intent")
    for intent, t in sorted(report.intents.items(), key=lambda kv: (group_of(kv[0]), kv[0])):
        print(f"  {group_of(intent):8s} {intent:24s} {_fmt(t.accuracy)}  ({t.correct}/{t.n})")
    print(f"\nmost frequent confusions (gold -> predicted), top {top}")
    for (gold, predicted), count in report.confusions.most_common(top):
        print(f"  {count:4d}  {gold} -> {predicted}")
    print("\nentities (type and exact span text)")
    for name, e in sorted(report.entities.items()):
        print(
            f"  {name:18s} P {_fmt(e.precision)}  R {_fmt(e.recall)}  F1 {_fmt(e.f1)}"
            f"  (tp {e.tp}, fp {e.fp}, fn {e.fn})"
        )
    total = report.entity_total
    print(f"  {'all (micro)':18s} P {_fmt(total.precision)}  R {_fmt(total.recall)}  F1 {_fmt(total.f1)}")
    d = report.as_dict()
    print(
        f"\nparse time per message ({len(report.cpu_ms)} distinct texts): CPU {d['cpu_ms_per_message']:.1f} ms, "
        f"wall {d['wall_ms_per_message']:.1f} ms (p50 {d['wall_ms_p50']:.1f}, p95 {d['wall_ms_p95']:.1f})"
    )
    print(f"model load {report.load_s:.1f} s, peak memory of this process {report.peak_rss_mb:.0f} MB")
    if errors:
        print("\nmisread lines (for the features' work only: never copy them into data/)")
        for example, got in report.errors:
            print(f"  [{example.intent} -> {got.intent} {got.confidence:.2f}] {example.text}")


def print_near_copies(copies: Sequence[NearCopy], n_eval: int, n_train: int) -> None:
    print(f"near-copies: {len(copies)} of {n_eval} evaluation lines against {n_train} training examples")
    for c in copies:
        print(f"  {c.score:5.1f} {c.how:22s} eval: {c.eval_text!r}  training: {c.training_text!r}")


def cross_validation(folds: int, config: Path, data: Path = TRAINING_DIR) -> dict[str, Any]:
    """Rasa's NLU cross-validation (`rasa test nlu --cross-validation`) on the training data: its intent report
    (per-intent precision, recall, F1 over the test folds) and its DIET entity report."""
    rasa = Path(sys.executable).parent / "rasa"
    with tempfile.TemporaryDirectory(prefix="nlu-cv-") as out:
        command = [
            str(rasa),
            "test",
            "nlu",
            "--nlu",
            str(data),
            "--config",
            str(config),
            "--cross-validation",
            "--folds",
            str(folds),
            "--out",
            out,
            "--no-plot",
            "--quiet",
        ]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        result = {"intents": json.loads((Path(out) / "intent_report.json").read_text())}
        entity_report = Path(out) / "DIETClassifier_report.json"
        if entity_report.exists():
            result["entities"] = json.loads(entity_report.read_text())
        return result


def print_cross_validation(result: dict[str, Any], folds: int) -> None:
    intents = result["intents"]
    print(f"cross-validation on the training data, {folds} folds (test folds; rasa test nlu)")
    for intent, row in sorted(intents.items(), key=lambda kv: (group_of(kv[0]), kv[0])):
        if isinstance(row, dict) and "f1-score" in row and intent not in ("macro avg", "weighted avg", "micro avg"):
            print(f"  {group_of(intent):8s} {intent:24s} F1 {row['f1-score']:6.1%}  (support {row.get('support')})")
    for key in ("accuracy", "macro avg", "weighted avg"):
        value = intents.get(key)
        if isinstance(value, dict):
            print(f"  {key:33s} F1 {value['f1-score']:6.1%}")
        elif value is not None:
            print(f"  {key:33s}    {value:6.1%}")
    for entity, row in sorted((result.get("entities") or {}).items()):
        if isinstance(row, dict) and "f1-score" in row:
            print(f"  entity {entity:26s} F1 {row['f1-score']:6.1%}  (support {row.get('support')})")


def _quiet_rasa() -> None:
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def _evaluate_in_a_fresh_process(model: Path, eval_paths: Sequence[Path] | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nlu-eval-") as out:
        numbers = Path(out) / "numbers.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--model", str(model), "--json", str(numbers)]
        if eval_paths:
            command += ["--eval", *map(str, eval_paths)]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        result: dict[str, Any] = json.loads(numbers.read_text())
        return result


def compare(before: Path, after: Path, eval_paths: Sequence[Path] | None, repeat: int) -> dict[str, Any]:
    """Both models evaluated `repeat` times each, alternately, each run in its own process: the accuracies are
    the same every run (a model answers a text alike); CPU per message is the smallest of the runs, peak memory
    the largest."""
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for _ in range(max(repeat, 1)):
        for name, model in (("before", before), ("after", after)):
            runs[name].append(_evaluate_in_a_fresh_process(model, eval_paths))
    result: dict[str, Any] = {}
    for name, numbers in runs.items():
        best = dict(numbers[0])
        best["cpu_ms_per_message"] = min(n["cpu_ms_per_message"] for n in numbers)
        best["wall_ms_per_message"] = min(n["wall_ms_per_message"] for n in numbers)
        best["cpu_ms_per_message_runs"] = [n["cpu_ms_per_message"] for n in numbers]
        best["peak_rss_mb"] = max(n["peak_rss_mb"] for n in numbers)
        result[name] = best
    return result


def _row(label: str, before: float | None, after: float | None, unit: str = "%", width: int = 28) -> str:
    if before is None or after is None:
        return f"  {label:{width}s} {'n/a':>9s} {'n/a':>9s}"
    if unit == "%":
        return f"  {label:{width}s} {before:8.1%} {after:8.1%}  {(after - before) * 100:+6.1f} points"
    change = f"{(after - before) / before:+7.1%}" if before else ""
    return f"  {label:{width}s} {before:8.1f}{unit} {after:8.1f}{unit}  {change}"


def print_comparison(result: dict[str, Any], before: Path, after: Path) -> None:
    b, a = result["before"], result["after"]
    print(f"before: {before}\nafter:  {after}\n{b['n']} lines of the evaluation sets\n")
    print(f"  {'':28s} {'before':>9s} {'after':>9s}")
    print(_row("accuracy", b["accuracy"], a["accuracy"]))
    for group in [*GROUPS, OTHER]:
        if group in b["groups"]:
            print(_row(f"  {group}", b["groups"][group]["accuracy"], a["groups"][group]["accuracy"]))
    print(_row("fallback rate", b["fallback_rate"], a["fallback_rate"]))
    print(_row("entity F1 (micro)", b["entities_micro"]["f1"], a["entities_micro"]["f1"]))
    for entity in sorted(b["entities"]):
        print(_row(f"  {entity}", b["entities"][entity]["f1"], (a["entities"].get(entity) or {}).get("f1")))
    print(_row("CPU per message", b["cpu_ms_per_message"], a["cpu_ms_per_message"], " ms"))
    print(_row("wall per message", b["wall_ms_per_message"], a["wall_ms_per_message"], " ms"))
    print(_row("peak memory (process)", b["peak_rss_mb"], a["peak_rss_mb"], " MB"))
    print(_row("model load", b["load_s"], a["load_s"], " s"))
    runs = ", ".join(
        f"{x:.1f}/{y:.1f}" for x, y in zip(b["cpu_ms_per_message_runs"], a["cpu_ms_per_message_runs"], strict=True)
    )
    print(f"  CPU ms per message of each run (before/after): {runs}")
    print("\nper intent (before -> after)")
    for intent in sorted(b["intents"], key=lambda i: (group_of(i), i)):
        x, y = b["intents"][intent]["accuracy"], (a["intents"].get(intent) or {}).get("accuracy")
        print(_row(f"{group_of(intent)} {intent}", x, y, width=34))


# runs a command and prints its cost: a process of its own per training, so that the peak memory of one
# training is not the largest of all before it (RUSAGE_CHILDREN keeps the maximum of every waited-for child)
_MEASURED = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_rss_mb": usage.ru_maxrss / 1024}))
"""


def training_cost(config: Path) -> dict[str, float]:
    """A forced `rasa train` of data/ and domain/ with this config into a temporary folder: wall and CPU seconds
    (user + system of the training process) and its peak memory."""
    rasa = Path(sys.executable).parent / "rasa"
    with tempfile.TemporaryDirectory(prefix="nlu-train-") as out:
        command = [str(rasa), "train", "--domain", "domain", "--config", str(config), "--force", "--out", out]
        done = subprocess.run(
            [sys.executable, "-c", _MEASURED, *command, "--quiet"], cwd=ROOT, check=True, capture_output=True, text=True
        )
    cost: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return cost


def _without_nan(value: Any) -> Any:
    """JSON has no NaN: a number that cannot be computed (no line of that kind) is null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--eval", type=Path, nargs="*", default=None, help=f"files or folders (default {EVAL_DIR})")
    parser.add_argument("--json", type=Path, default=None, help="write the numbers to this file")
    parser.add_argument("--near-copies", action="store_true", help="evaluation lines near-copying training data")
    parser.add_argument("--cross-validation", type=int, default=0, metavar="N", help="N-fold CV on data/nlu")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="pipeline for --cross-validation")
    parser.add_argument("--training-data", type=Path, default=TRAINING_DIR, help="for --near-copies and CV")
    parser.add_argument("--no-model", action="store_true", help="skip the evaluation of --model")
    parser.add_argument("--errors", action="store_true", help="print the misread lines")
    parser.add_argument("--top", type=int, default=20, help="how many confusions to print")
    parser.add_argument("--compare", type=Path, default=None, metavar="BEFORE", help="a model to compare --model with")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each model with --compare")
    parser.add_argument("--train", type=Path, nargs="+", default=None, metavar="CONFIG", help="training cost")
    args = parser.parse_args(argv)
    _quiet_rasa()

    numbers: dict[str, Any] = {"model": str(args.model)}
    train = training_texts([args.training_data])
    examples, copies = unseen(load_eval_set(args.eval), train)
    numbers["near_copies"] = len(copies)
    status = 0
    print(f"{len(examples)} unseen evaluation lines; {len(copies)} near-copies of training examples not counted")
    if args.near_copies:
        print_near_copies(copies, len(examples) + len(copies), len(train))
        print()
    if args.compare is not None:
        result = compare(args.compare, args.model, args.eval, args.repeat)
        print_comparison(result, args.compare, args.model)
        numbers["compare"] = result
    elif not args.no_model:
        if not examples:
            print(f"no evaluation lines in {args.eval or EVAL_DIR}")
            return 2
        report = evaluate_model(args.model, examples)
        print(f"model {args.model}, evaluation sets: {', '.join(sorted({e.source for e in examples}))}")
        print_report(report, args.top, args.errors)
        numbers.update(report.as_dict())
    if args.cross_validation:
        print()
        cv = cross_validation(args.cross_validation, args.config, args.training_data)
        print_cross_validation(cv, args.cross_validation)
        numbers["cross_validation"] = cv
    for config in args.train or []:
        cost = training_cost(config)
        print(
            f"training with {config}: {cost['wall_s']:.1f} s wall, {cost['cpu_s']:.1f} s CPU, "
            f"peak memory {cost['peak_rss_mb']:.0f} MB"
        )
        numbers.setdefault("training", {})[str(config)] = cost
    if args.json:
        args.json.write_text(json.dumps(_without_nan(numbers), indent=2, sort_keys=True) + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
