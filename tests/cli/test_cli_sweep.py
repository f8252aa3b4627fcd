"""``moments sweep``: the CLI as a subprocess against the real sandbox, with faults that ``match`` single
combinations; the JUnit report parsed, the baseline compared across runs with the sandbox changed between
them, the --json document, the usage errors (nothing sent), Ctrl+C mid-sweep; never a getReward (the
sandbox's ledger stays empty), never the key in any output or file."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_helpers import (
    CLI_TIMEOUT_S,
    assert_secret_absent,
    cli_command,
    cli_env,
    journal_entries,
    json_output,
    make_unwritable,
)

import moments_desktop.cli
from moments_desktop.api_schema import DEVICE_TYPES
from moments_desktop.core.sweep import MAX_SWEEP_COMBINATIONS

pytestmark = pytest.mark.secret_service

# The demo campaign (DEMOCAMP1) has the moments GAME_COMPLETE and LEVEL_UP and the reward groups US, JP, DE;
# NO_SUCH_MOMENT is in no campaign: the sandbox answers [] (no reward).
MIXED = ("--field", "momentId=GAME_COMPLETE,NO_SUCH_MOMENT", "--field", "deviceType=Android,iOS",
         "--field", "rewardGroupId=US,JP")
DECLINED_ONE = {"momentId": "GAME_COMPLETE", "deviceType": "iOS", "rewardGroupId": "JP"}
ERROR_ONE = {"momentId": "GAME_COMPLETE", "deviceType": "Android", "rewardGroupId": "JP"}
SCHEMA = Path(moments_desktop.cli.__file__).parent / "SCHEMA.md"


def sweep(run_cli, profile, *extra):
    return run_cli("sweep", "--profile", profile.name, *extra)


def moments_lines(stderr: str) -> list[str]:
    """The lines of stderr that are messages (``moments: …``), not the plan and progress notes."""
    return [line for line in stderr.splitlines() if line.startswith("moments:")]


def stderr_until(proc: subprocess.Popen, marker: str, timeout_s: float = 20.0) -> str:
    """What the running ``proc`` wrote to stderr up to and including ``marker`` (read from its pipe, so
    ``communicate`` later returns the rest)."""
    seen = b""
    deadline = time.monotonic() + timeout_s
    fd = proc.stderr.fileno()
    while marker.encode() not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{marker!r} did not appear on stderr within {timeout_s:g} s: {seen!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise AssertionError(f"stderr closed before {marker!r}: {seen!r}")
            seen += chunk
    return seen.decode("utf-8")


def junit_cases(path) -> tuple[ET.Element, list[ET.Element]]:
    root = ET.parse(path).getroot()
    return root, list(root.iter("testcase"))


def test_a_mixed_sweep_counts_each_status_and_its_junit_fails_exactly_the_failing_ones(
        run_cli, sandbox_profile, sandbox, cli_home, tmp_path):
    profile = sandbox_profile()
    sandbox.admin.add_fault("GetRewardInfo", "status", status=403, match=DECLINED_ONE)
    sandbox.admin.add_fault("GetRewardInfo", "drop_after_read", match=ERROR_ONE)
    junit, csv = tmp_path / "sweep.xml", tmp_path / "sweep.csv"
    result = sweep(run_cli, profile, *MIXED, "--junit", str(junit), "--csv", str(csv))
    assert result.returncode == 8, result.stderr

    # The plan first, then progress lines (no terminal: one per tenth, here one per card), no error line.
    notes = result.stderr.splitlines()
    assert re.search(r": 8 combinations, (about \d+ s|under 1 s) at 5 calls per second$", notes[0]), notes[0]
    assert notes[-1].startswith("8/8 (100 %)"), notes
    assert moments_lines(result.stderr) == []

    out = result.stdout
    assert "8 combinations in" in out
    assert "reward 2, no reward 4, declined 1, error 1" in out
    assert "Failing (6):" in out
    failing_rows = [line for line in out.splitlines() if re.match(r"^\s+\d+\s", line)]
    assert len(failing_rows) == 6
    assert any("iOS" in row and "JP" in row and "Declined" in row for row in failing_rows), out
    assert any("Android" in row and "JP" in row and "Error" in row for row in failing_rows), out
    assert sum("No reward" in row for row in failing_rows) == 4
    for path in (junit, csv):
        assert f"written to {path}" in out

    root, cases = junit_cases(junit)
    assert len(cases) == 8
    failed = [case for case in cases if case.find("failure") is not None]
    assert len(failed) == 6
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert int(suite.get("tests")) == 8 and int(suite.get("failures")) == 6

    rows = journal_entries(cli_home)
    assert len(rows) == 8 and {row.endpoint for row in rows} == {"GetRewardInfo"}  # each call journaled
    assert sandbox.admin.ledger() == []  # getRewardInfo only: nothing claimed
    assert_secret_absent(sandbox.demo_key, result, home=tmp_path)  # the home and the reports


def test_the_html_report_is_written_with_its_images_and_without_the_key(run_cli, sandbox_profile, sandbox,
                                                                        tmp_path):
    """Needs Session.sweep_image (the core helper's image cache): the report embeds each image once."""
    profile = sandbox_profile()
    html = tmp_path / "sweep.html"
    result = sweep(run_cli, profile, "--field", "rewardGroupId=US,JP", "--html", str(html))
    assert result.returncode == 0, result.stderr
    assert f"HTML report written to {html}" in result.stdout
    page = html.read_text(encoding="utf-8")
    assert page.count("data:image/") >= 2  # two rewards, two images, embedded: the page stands alone
    assert sandbox.admin.ledger() == []
    assert_secret_absent(sandbox.demo_key, result, home=tmp_path)


def test_every_combination_with_a_reward_is_exit_0_and_all_devices_sweeps_the_four_device_types(
        run_cli, sandbox_profile, sandbox, tmp_path):
    profile = sandbox_profile()
    result = sweep(run_cli, profile, "--all-devices", "--field", "deviceType=Android", "--json")
    assert result.returncode == 0, result.stderr
    document = json_output(result)
    assert document["plan"]["values"]["deviceType"] == list(DEVICE_TYPES)  # Android once, first
    assert document["plan"]["count"] == 4 and document["counts"]["reward"] == 4
    assert document["ok"] is True and document["failed"] == 0
    assert sandbox.admin.ledger() == []


def test_save_baseline_then_a_changed_sandbox_fails_only_with_fail_on_change(
        run_cli, sandbox_profile, sandbox, cli_home, tmp_path):
    profile = sandbox_profile()
    baseline = tmp_path / "baseline.json"
    fields = ("--field", "rewardGroupId=US,JP")
    first = sweep(run_cli, profile, *fields, "--save-baseline", str(baseline))
    assert first.returncode == 0, first.stderr
    assert f"Baseline saved to {baseline}" in first.stdout
    assert baseline.is_file()

    # The sandbox changes between the runs: JP's customers now get another announcement (still a reward).
    sandbox.admin.add_fault("GetRewardInfo", "status", status=200, match={"rewardGroupId": "JP"},
                            body={"rewardNotificationText": "Spring special: a free month!",
                                  "rewardImageUrl": f"{sandbox.base_url}/images/headphones.png",
                                  "remainingRewardCount": 100, "campaignEndDate": "2030-12-31"})
    junit = tmp_path / "changed.xml"
    failed = sweep(run_cli, profile, *fields, "--baseline", str(baseline), "--fail-on-change",
                   "--junit", str(junit))
    assert failed.returncode == 8, failed.stderr
    assert "Changed since the baseline" in failed.stdout
    [change_row] = [line for line in failed.stdout.splitlines() if "Spring special" in line]
    assert "JP" in change_row and "US" not in change_row and "announcement:" in change_row
    assert "changed since the baseline (below)" in failed.stdout  # its failure, in the failing table
    _, cases = junit_cases(junit)
    assert len(cases) == 2 and sum(case.find("failure") is not None for case in cases) == 1

    passed = sweep(run_cli, profile, *fields, "--baseline", str(baseline), "--json")
    assert passed.returncode == 0, passed.stderr  # a change alone is no failure without --fail-on-change
    document = json_output(passed)
    assert document["baseline"]["changed"] == 1 and document["failed"] == 0
    [changed] = document["changes"]
    assert changed["request"]["rewardGroupId"] == "JP"
    assert {"kind": "text", "after": "Spring special: a free month!"}.items() <= changed["changes"][0].items()
    assert sandbox.admin.ledger() == []
    assert_secret_absent(sandbox.demo_key, first, failed, passed, home=tmp_path)  # the baseline file too


def test_the_json_document_has_the_plan_counts_every_card_and_only_documented_keys(
        run_cli, sandbox_profile, sandbox, tmp_path):
    profile = sandbox_profile()
    sandbox.admin.add_fault("GetRewardInfo", "status", status=403, match={"rewardGroupId": "JP"})
    result = sweep(run_cli, profile, "--field", "rewardGroupId=US,JP,DE", "--json")
    assert result.returncode == 8, result.stderr
    document = json_output(result)
    assert (document["schema"], document["command"], document["exit_code"], document["ok"]) == (1, "sweep", 8, False)
    assert document["endpoint"] == sandbox.base_url
    assert document["profile"] == {"id": profile.id, "name": profile.name}
    plan = document["plan"]
    assert plan["count"] == 3 and plan["swept_fields"] == ["rewardGroupId"]
    assert plan["values"]["rewardGroupId"] == ["US", "JP", "DE"] and plan["values"]["appId"] == ["DEMO1"]
    assert (plan["calls"], plan["window_s"]) == (5, pytest.approx(1.1))
    assert document["counts"] == {"reward": 2, "no_reward": 0, "declined": 1, "error": 0}
    assert document["failed"] == 1 and document["cancelled"] is False
    cards = document["cards"]
    assert [card["index"] for card in cards] == [0, 1, 2]
    assert [card["request"]["rewardGroupId"] for card in cards] == ["US", "JP", "DE"]
    assert [card["status"] for card in cards] == ["reward", "declined", "reward"]
    assert cards[1]["failure"] and cards[1]["http_status"] == 403 and cards[1]["problem"]
    assert cards[0]["failure"] is None and cards[0]["remaining_count"] == 100
    assert cards[0]["notification_text"].startswith("Congratulations")
    assert all(card["changes"] is None for card in cards)  # no baseline: nothing to compare with
    assert document["baseline"] is None and document["changes"] == []
    assert document["reports"] == {"junit": None, "html": None, "csv": None}

    documented = set(re.findall(r"^\| `([a-z_]+)` \|", SCHEMA.read_text(encoding="utf-8"), flags=re.MULTILINE))
    keys = set(document) | set(plan) | {key for card in cards for key in card}
    assert keys - {"schema", "command"} <= documented, keys - documented
    assert_secret_absent(sandbox.demo_key, result)


@pytest.mark.parametrize(("field", "words"), [
    ("colour=red", "'colour' is not a request field: use one of appId, momentId, deviceType, campaignId, "
                   "rewardGroupId"),
    ("deviceType", "has no values"),
    ("deviceType= , ", "has no values"),
    ("appId=DEMO1,DEMO\u200b2", "DEMO\u200b2"),  # a zero-width space, pasted by accident: the client refuses it
], ids=["unknown-field", "no-equals", "no-values", "a-value-the-client-refuses"])
def test_a_bad_field_is_exit_2_with_one_line_and_nothing_is_sent(run_cli, sandbox_profile, sandbox, cli_home,
                                                                 field, words):
    profile = sandbox_profile()
    result = sweep(run_cli, profile, "--field", field)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("moments: "), result.stderr
    assert words in result.stderr
    assert result.stdout == ""
    assert journal_entries(cli_home) == []


def test_too_many_combinations_are_refused_before_anything_is_sent(run_cli, sandbox_profile, cli_home):
    profile = sandbox_profile()
    side = int(MAX_SWEEP_COMBINATIONS ** 0.5) + 1  # side x side is just over the limit
    apps = ",".join(f"APP{i}" for i in range(side))
    moments_ = ",".join(f"MOMENT{i}" for i in range(side))
    result = sweep(run_cli, profile, "--field", f"appId={apps}", "--field", f"momentId={moments_}")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Nothing was sent" in result.stderr
    assert journal_entries(cli_home) == []


def test_an_unreadable_baseline_is_exit_6_before_anything_is_sent(run_cli, sandbox_profile, cli_home, tmp_path):
    profile = sandbox_profile()
    broken = tmp_path / "baseline.json"
    broken.write_text("{not json", encoding="utf-8")
    for path in (broken, tmp_path / "missing.json"):
        result = sweep(run_cli, profile, "--field", "rewardGroupId=US,JP", "--baseline", str(path))
        assert result.returncode == 6, result.stderr
        assert len(result.stderr.splitlines()) == 1 and str(path) in result.stderr, result.stderr
        assert journal_entries(cli_home) == []


def test_a_report_that_cannot_be_written_is_exit_6_after_the_sweep_with_its_path(
        run_cli, sandbox_profile, sandbox, tmp_path):
    profile = sandbox_profile()
    locked = tmp_path / "locked"
    undo = make_unwritable(locked)
    unwritable = locked / "sweep.xml"
    csv = tmp_path / "sweep.csv"
    try:
        result = sweep(run_cli, profile, "--field", "rewardGroupId=US,JP", "--junit", str(unwritable),
                       "--csv", str(csv))
    finally:
        undo()
    assert result.returncode == 6, result.stderr
    [line] = moments_lines(result.stderr)
    assert str(unwritable) in line
    assert "2 combinations in" in result.stdout and "Every combination passed." in result.stdout  # still printed
    assert csv.is_file() and f"written to {csv}" in result.stdout  # the other report is written all the same


def test_ctrl_c_mid_sweep_exits_130_with_one_line_and_writes_the_partial_report(
        start_cli, sandbox_profile, sandbox, cli_home, tmp_path):
    profile = sandbox_profile()
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=20, match={"rewardGroupId": "JP"})
    junit, baseline = tmp_path / "partial.xml", tmp_path / "baseline.json"
    proc = start_cli("sweep", "--profile", profile.name, "--field", "rewardGroupId=US,JP", "--junit", str(junit),
                     "--save-baseline", str(baseline))
    # The progress line, not the journal row: the row is written before the card is counted.
    early = stderr_until(proc, "1/2 (50 %)")
    proc.send_signal(signal.SIGINT)  # JP's answer is held back by the sandbox for 20 s
    interrupted = time.monotonic()
    stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)
    stopped_after = time.monotonic() - interrupted
    stderr = early + stderr
    assert proc.returncode == 130, stderr
    assert stopped_after < 10, stopped_after  # at once, not after the held-back answer (20 s)
    assert "Traceback" not in stderr
    [line] = moments_lines(stderr)
    assert line == stderr.splitlines()[-1]
    assert "interrupted after 1 of 2 combinations" in line and "nothing was claimed" in line
    assert "1 of 2 combinations (interrupted)" in stdout
    _, cases = junit_cases(junit)  # written with what came back; the rest skipped
    assert len(cases) == 2 and sum(case.find("skipped") is not None for case in cases) == 1
    assert not baseline.exists()  # an interrupted sweep is no baseline
    assert sandbox.admin.ledger() == []
    assert_secret_absent(sandbox.demo_key, stdout, stderr, home=tmp_path)


def test_sweep_help_names_its_exit_codes_and_what_ctrl_c_writes(run_cli):
    result = run_cli("sweep", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "never sends getReward" in text
    assert "--fail-on-change" in text and "Exit 0 when every combination has a reward" in text
    assert "8 when at least one is an error, declined or no reward" in text
    assert "--save-baseline is not written from an interrupted sweep" in text


def test_on_a_terminal_the_progress_is_one_line_redrawn_in_place(sandbox_profile, sandbox, cli_home):
    profile = sandbox_profile()
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(cli_command("sweep", "--profile", profile.name, "--field", "rewardGroupId=US,JP,DE"),
                                env=cli_env(cli_home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=terminal, text=True)
        os.close(terminal)
        stdout, _ = proc.communicate(timeout=CLI_TIMEOUT_S)
        written = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the other side is closed and everything was read
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0, written
    text = written.decode().replace("\r\n", "\n")  # the terminal's own newline translation
    plan, live = text.split("\n", 1)[0], text.split("\n", 1)[1]
    assert "3 combinations" in plan
    redraws = live.split("\r")[1:]  # each card redraws the same line: back to its start, then clear its end
    assert len(redraws) == 3 and all(r.rstrip("\n").endswith("\x1b[K") for r in redraws), repr(text)
    assert redraws[-1].startswith("3/3 (100 %)") and live.endswith("\n")  # ended before the summary
    assert "3 combinations in" in stdout and "\r" not in stdout


def test_a_key_the_server_echoes_reaches_no_output_baseline_or_report(run_cli, sandbox_profile, sandbox, tmp_path):
    """A server that quotes the key back - in a 403's message, or in a 200's announcement and image URL -
    must not get it into the summary, the --json document, the baseline or any report."""
    profile = sandbox_profile()
    key = sandbox.demo_key
    sandbox.admin.add_fault("GetRewardInfo", "status", status=403, echo_key=True, match=DECLINED_ONE)
    sandbox.admin.add_fault("GetRewardInfo", "status", status=200, match=ERROR_ONE, body={
        "rewardNotificationText": f"Your key is {key}", "remainingRewardCount": 3,
        "rewardImageUrl": f"{sandbox.base_url}/images/nothing.png?key={key}"})
    reports = {name: tmp_path / name for name in ("b.json", "s.xml", "s.csv", "s.html")}
    args = ("--save-baseline", str(reports["b.json"]), "--junit", str(reports["s.xml"]),
            "--csv", str(reports["s.csv"]), "--html", str(reports["s.html"]))
    human = sweep(run_cli, profile, *MIXED, *args)
    assert human.returncode == 8, human.stderr
    assert "Your key is [redacted]" in reports["s.csv"].read_text(encoding="utf-8-sig")  # the echo was there
    as_json = sweep(run_cli, profile, *MIXED, "--json")
    assert as_json.returncode == 8, as_json.stderr
    assert_secret_absent(key, human, as_json, home=tmp_path)  # the home, the baseline and every report
    assert sandbox.admin.ledger() == []


def test_a_masked_json_card_masks_the_identifiers_and_urls_its_problem_quotes():
    """Presenter mode (a masked Renderer) masks a card's problem in --json as it does in the reports."""
    from moments_desktop.cli.sweep import _card_document
    from moments_desktop.core.render import Renderer
    from moments_desktop.core.sweep import Combination, SweepCard, SweepStatus

    card = SweepCard(0, Combination(("APPALPHA91", "LEVEL_FINISHED", "Android", "SPRINGCAMP77", "GROUPONE11")),
                     SweepStatus.ERROR,
                     problem="Could not reach https://api.moments-staging.test/prod for APPALPHA91")
    masked = _card_document(Renderer(masked=True), card, None, None)
    assert "APPALPHA91" not in str(masked) and "moments-staging" not in str(masked), masked
    plain = _card_document(Renderer(), card, None, None)
    assert plain["problem"] == card.problem
