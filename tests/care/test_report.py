"""Reports: rendered, self-contained, plain enough for the patient, and shown by a real browser
(headless Debian Chromium through Playwright: no console errors, charts drawn, screenshot kept
under test-artifacts/care/)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmed.care import build_plan
from pmed.care.report import render_report, write_demo_reports
from pmed.cli import cli
from pmed.config import Settings
from pmed.record.patient import PatientRecord
from pmed.record.store import Store
from tests.care import builders as b

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "care"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    record = PatientRecord.from_resources(b.cardiometabolic())
    plan = build_plan(record, at=date(2025, 6, 1))
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for audience in ("clinician", "patient"):
        path = out / f"{audience}.html"
        path.write_text(render_report(plan, record, audience=audience), encoding="utf-8")
        paths[audience] = path
    return paths


def test_clinician_report_has_every_part(reports):
    html = reports["clinician"].read_text()
    for part in ('id="patient-banner"', 'id="recommendations"', 'id="pgx"', 'id="risks"',
                 'id="provenance"', "Ana Rivera", "MRN-p1", "SLCO1B1", "Poor Function",
                 "cpicpgx.org", "Observation/scr"):  # fmt: skip
        assert part in html, part
    assert html.count('class="chart"') >= 4  # factor + what-if charts
    assert "<script" not in html and not re.search(r'(src|href)="(?!https?://[^"]+")', html)


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    count = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
    words = re.findall(r"[A-Za-z]+", text)
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * syllables / len(words) - 15.59


def test_patient_report_reads_at_about_age_12(reports):
    html = reports["patient"].read_text()
    body = html.split("<main>")[1].split('<section id="provenance">')[0]
    text = re.sub(r"<svg.*?</svg>", " ", body, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    grade = flesch_kincaid_grade(text)
    assert grade <= 7.5, grade  # US grade 7 ≈ age 12–13
    assert "CHA2DS2" not in text and "CPIC" not in text  # no jargon for the patient


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed")
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_report_in_a_real_browser(reports, audience):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(reports[audience].as_uri())
            page.wait_for_load_state("load")
            assert page.locator("#patient-banner h1").inner_text() == "Ana Rivera"
            charts = page.locator("svg.chart")
            assert charts.count() >= (4 if audience == "clinician" else 3)
            box = charts.first.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 30
            assert page.locator("svg.chart rect.bar").count() >= 7
            assert page.locator("#recommendations .rec").count() == 5
            page.screenshot(path=str(ARTIFACTS / f"report-{audience}.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert all(u.startswith("file://") for u in requests), requests  # nothing fetched
    assert (ARTIFACTS / f"report-{audience}.png").stat().st_size > 10_000


# ------------------------------------------------------------------------------------- CLI
@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PMED_HOME", str(home))
    monkeypatch.delenv("PMED_DATABASE_URL", raising=False)
    store = Store.open(Settings(home=home))
    store.write_batch(b.cardiometabolic())
    store.close()
    return home


def test_pmed_report_writes_html_and_prints_a_summary(home, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(cli, ["report", "p1", "--audience", "patient", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "use an alternative to clopidogrel" in result.output and f"wrote {out}" in result.output
    assert "Questions to ask" in out.read_text()


def test_pmed_care_plan_json(home):
    import json

    result = CliRunner().invoke(cli, ["care", "plan", "p1", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["patient"] == "Patient/p1"
    assert plan["recommendations"][0]["key"] == "drug:clopidogrel"


def test_pmed_report_unknown_patient_is_a_clean_error(home):
    from pmed.cli import main

    with pytest.raises(SystemExit) as info:
        main(["report", "nobody"])
    assert info.value.code == 1


def test_write_demo_reports(home, tmp_path):
    store = Store.open(Settings(home=home))
    try:
        paths = write_demo_reports(store, "p1", tmp_path / "demo")
    finally:
        store.close()
    assert [p.name for p in paths] == ["report-p1-clinician.html", "report-p1-patient.html"]
    assert all(p.stat().st_size > 5000 for p in paths)
    shutil.rmtree(tmp_path / "demo")
