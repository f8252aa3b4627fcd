"""The Message tab against the real sandbox: every outcome's message in its frames, problems that lead to
their place, abort, per-profile templates saved and asked about, and a failing call shown as a message."""

from __future__ import annotations

import dataclasses

import pytest

from moments_desktop.core.message_preview import Channel, MessageTemplates, OutcomeKind
from moments_desktop.core.profiles import DEMO_PROFILE_ID, DEMO_PROFILE_NAME, Profile, ProfileStore
from moments_desktop.ui.customer_frames import EMPTY_FIELD

pytestmark = pytest.mark.gui

ALL_KINDS = set(OutcomeKind)

# Templates without the abort guard: every outcome renders, so each frame's text can be compared.
UNGUARDED = dataclasses.replace(
    MessageTemplates.defaults(),
    push_title="Push for {{${first_name}}}",
    push_body="P: {{moments.rewardNotificationText}}",
    push_image_url="{{moments.rewardImageUrl}}",
    email_subject="Mail: {{moments.rewardNotificationText}}",
    email_html="<p>Hello {{${first_name}}}</p><p>E: {{moments.rewardNotificationText}}</p>",
    in_app_header="Card {{${first_name}}}",
    in_app_body="I: {{moments.rewardNotificationText}}",
    in_app_image_url="{{moments.rewardImageUrl}}",
    in_app_button="Open {{moments.remainingRewardCount}}",
    attributes=(("first_name", "Ana"),),
)


def shown(text: str) -> str:
    return text if text.strip() else EMPTY_FIELD


def set_templates(tab, templates: MessageTemplates) -> None:
    for (channel, name), editor in tab.editors.items():
        editor.setPlainText(templates.field(channel, name))
    table = tab.attributes_table
    table.setRowCount(0)
    for name, value in templates.attributes:
        tab.add_attribute_row()
        row = table.rowCount() - 1
        table.item(row, 0).setText(name)
        table.item(row, 1).setText(value)
    tab.render_now()


async def preview_every_outcome(window, until):
    tab = window.message_tab
    window.tabs.setCurrentWidget(tab)
    assert tab.preview_outcomes()
    await until(lambda: not window.bridge.busy and tab.columns(), 15_000)
    return tab


def test_every_outcome_is_rendered_in_its_frames_side_by_side(harness, in_loop, until, sandbox):
    window = harness.window
    tab = window.message_tab
    set_templates(tab, UNGUARDED)

    async def scenario():
        await preview_every_outcome(window, until)
        await until(lambda: tab.column(OutcomeKind.REWARD).frame(Channel.PUSH).image.has_image())

    in_loop(scenario)
    assert {column.outcome.kind for column in tab.columns()} == ALL_KINDS
    assert tab.error_banner.isHidden()
    rendered = {(m.channel, m.outcome.kind): m for m in harness.session.render_messages(UNGUARDED, tab.outcomes())}
    reward = tab.column(OutcomeKind.REWARD).outcome.response
    reward_text = reward["rewardNotificationText"]
    assert reward_text  # the sandbox's real answer
    for column in tab.columns():
        kind = column.outcome.kind
        assert column.title.text() == column.outcome.label
        assert column.explanation.text() == column.outcome.explanation
        push, email, in_app = (column.frame(c) for c in (Channel.PUSH, Channel.EMAIL, Channel.IN_APP))
        for frame in (push, email, in_app):
            assert frame.state() == "message", kind
        fields = rendered[(Channel.PUSH, kind)].fields
        assert push.title_label.text() == shown(fields["title"]) == "Push for Ana"
        assert push.body_label.text() == shown(fields["body"])
        fields = rendered[(Channel.EMAIL, kind)].fields
        assert email.subject_label.text() == shown(fields["subject"])
        assert "Hello Ana" in email.body.toPlainText()
        fields = rendered[(Channel.IN_APP, kind)].fields
        assert in_app.header_label.text() == "Card Ana"
        assert in_app.body_label.text() == shown(fields["body"])
        assert in_app.button.text() == shown(fields["button"])
    reward_column = tab.column(OutcomeKind.REWARD)
    assert reward_column.frame(Channel.PUSH).body_label.text() == f"P: {reward_text}"
    assert reward_column.frame(Channel.EMAIL).subject_label.text() == f"Mail: {reward_text}"
    assert f"E: {reward_text}" in reward_column.frame(Channel.EMAIL).body.toPlainText()
    assert reward_column.frame(Channel.IN_APP).body_label.text() == f"I: {reward_text}"
    # The reward image came by its own GET from the sandbox, into the push and in-app frames.
    assert reward_column.frame(Channel.PUSH).image.image().width() > 0
    # No answer: Braze inserts nothing, and the frames say so rather than hide the field.
    timeout_column = tab.column(OutcomeKind.TIMEOUT)
    assert timeout_column.frame(Channel.PUSH).body_label.text() == "P: "
    assert not timeout_column.frame(Channel.PUSH).image.isVisibleTo(timeout_column)

    # The channel switch shows one channel's frames in every column.
    tab.show_channel(Channel.EMAIL)
    for column in tab.columns():
        assert column.frame(Channel.EMAIL).isVisibleTo(column)
        assert not column.frame(Channel.PUSH).isVisibleTo(column)


def test_typing_re_renders_against_the_last_outcomes_without_another_call(harness, in_loop, until):
    window = harness.window
    tab = window.message_tab
    set_templates(tab, UNGUARDED)

    async def scenario():
        await preview_every_outcome(window, until)
        calls = harness.journal.count()
        assert calls > 0  # the outcomes were asked (and journaled as previews)
        tab.editors[(Channel.PUSH, "title")].setPlainText("Now {{${first_name}}} again")
        frame = tab.column(OutcomeKind.REWARD).frame(Channel.PUSH)
        assert frame.title_label.text() == "Push for Ana"  # not yet: the render waits for a pause
        await until(lambda: frame.title_label.text() == "Now Ana again", 3_000)
        assert not window.bridge.busy
        return calls

    calls = in_loop(scenario)
    assert harness.journal.count() == calls  # the re-render asked nothing


def test_a_typo_is_listed_with_line_and_column_and_activating_it_moves_the_cursor(harness, in_loop, until):
    window = harness.window
    tab = window.message_tab
    window.tabs.setCurrentWidget(tab)
    editor = tab.editors[(Channel.PUSH, "body")]
    editor.setPlainText("Hello\n  {{moment.rewardImageUrl}}")
    tab.editors[(Channel.IN_APP, "button")].setPlainText("{{moments.remainingRewardCount}}}")
    tab.show_channel(Channel.EMAIL)  # the problem's channel is not the one shown

    async def scenario():
        await until(lambda: any(p.kind == "undefined" for p in tab.problems()), 3_000)

    in_loop(scenario)
    typo = next(p for p in tab.problems() if p.kind == "undefined")
    assert (typo.channel, typo.field, typo.line) == (Channel.PUSH, "body", 2)
    assert typo.column in (3, 5)  # at the "{{" or at the name
    assert "moments.rewardImageUrl" in typo.message + (typo.suggestion or "")
    brace = next(p for p in tab.problems() if p.kind == "stray_brace")
    assert (brace.channel, brace.field, brace.line) == (Channel.IN_APP, "button", 1)

    tree = tab.problems_list
    rows = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    typo_row = next(row for row in rows if row.data(0, 256) == typo)
    assert typo_row.text(1) == f"Push body {typo.line}:{typo.column}"
    assert typo_row.text(0) == "Undefined"
    tree.itemActivated.emit(typo_row, 0)
    assert tab.current_channel() is Channel.PUSH
    assert editor.cursor_line_column() == (typo.line, typo.column)

    brace_row = next(row for row in rows if row.data(0, 256) == brace)
    tree.itemActivated.emit(brace_row, 0)
    assert tab.current_channel() is Channel.IN_APP
    assert tab.editors[(Channel.IN_APP, "button")].cursor_line_column() == (brace.line, brace.column)


def test_the_cursor_lands_on_the_right_character_after_non_bmp_text(harness):
    tab = harness.window.message_tab
    editor = tab.editors[(Channel.EMAIL, "html")]
    editor.setPlainText("first\n🎁🎁 مرحبا {{x}}")
    editor.move_cursor_to(2, 10)  # 1-based characters, as the core counts them: the "{{"
    assert editor.cursor_line_column() == (2, 10)
    cursor = editor.textCursor()
    cursor.movePosition(cursor.MoveOperation.NextCharacter, cursor.MoveMode.KeepAnchor, 2)
    assert cursor.selectedText() == "{{"


def test_an_aborted_message_shows_not_sent(harness, in_loop, until):
    window = harness.window
    tab = window.message_tab
    set_templates(tab, MessageTemplates.defaults())  # their guard aborts without a reward URL

    async def scenario():
        await preview_every_outcome(window, until)

    in_loop(scenario)
    for channel in (Channel.PUSH, Channel.EMAIL, Channel.IN_APP):
        no_reward = tab.column(OutcomeKind.NO_REWARD).frame(channel)
        assert no_reward.state() == "not_sent"
        assert no_reward.not_sent_label.text() == "This message is not sent: no Moments reward"
        assert tab.column(OutcomeKind.NOT_FOUND).frame(channel).state() == "not_sent"
    assert tab.column(OutcomeKind.REWARD).frame(Channel.PUSH).state() == "message"


def test_saved_templates_persist_in_the_profile_store(harness, in_loop, until):
    window = harness.window
    tab = window.message_tab
    title = tab.editors[(Channel.PUSH, "title")]
    title.setPlainText("Saved title {{${first_name}}}")
    assert tab.is_dirty(DEMO_PROFILE_ID)
    assert tab.save_button.isEnabled()
    assert window.tabs.tabText(window.tabs.indexOf(tab)).endswith("\u2022")

    async def scenario():
        tab.save_button.click()
        await until(lambda: not tab.is_dirty(DEMO_PROFILE_ID) and not window.bridge.profile_write_busy)

    in_loop(scenario)
    assert not tab.save_button.isEnabled()
    assert window.tabs.tabText(window.tabs.indexOf(tab)) == "Message"
    reopened = ProfileStore(harness.profiles.path)
    assert reopened.get(DEMO_PROFILE_ID).message_templates.push_title == "Saved title {{${first_name}}}"


def test_switching_profiles_shows_each_profiles_templates_and_keeps_drafts(harness, in_loop, until, sandbox):
    window = harness.window
    tab = window.message_tab
    other_templates = dataclasses.replace(MessageTemplates.defaults(), push_title="Staging title",
                                          attributes=(("first_name", "Kenji"),))
    staging = harness.profiles.add(Profile(name="Staging", base_url=sandbox.base_url, **sandbox.demo_body))

    async def scenario():
        await harness.session.save_message_templates(staging.id, other_templates)

    in_loop(scenario)
    window.refresh_profile_list()
    title = tab.editors[(Channel.PUSH, "title")]
    demo_title = title.toPlainText()
    title.setPlainText("Unsaved demo title")  # a draft of the demo profile

    window.profile_combo.setCurrentIndex(window.profile_combo.findData(staging.id))
    assert title.toPlainText() == "Staging title"
    assert tab.templates().attributes == (("first_name", "Kenji"),)
    assert not tab.is_dirty() and not tab.save_button.isEnabled()

    window.profile_combo.setCurrentIndex(window.profile_combo.findData(DEMO_PROFILE_ID))
    assert title.toPlainText() == "Unsaved demo title"  # the draft was kept, as the form keeps its own
    assert tab.is_dirty()
    tab.revert_button.click()
    assert title.toPlainText() == demo_title and not tab.is_dirty()


class Answers:
    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.asked: list[list[str]] = []

    def __call__(self, names):
        self.asked.append(list(names))
        assert self.answers, f"unexpected question for {names}"
        return self.answers.pop(0)


def test_closing_with_unsaved_templates_asks_and_saves_them(harness, in_loop, until, monkeypatch,
                                                              keep_loop_after_last_window):
    window = harness.window
    tab = window.message_tab
    tab.editors[(Channel.EMAIL, "subject")].setPlainText("Kept on close")
    answers = Answers("cancel", "save")
    monkeypatch.setattr(tab, "ask_unsaved_templates", answers)
    closed = []
    window.closed.connect(lambda: closed.append(True))

    assert not window.close()
    assert window.isVisible() and not closed and tab.is_dirty()
    assert ProfileStore(harness.profiles.path).get(DEMO_PROFILE_ID).message_templates.email_subject \
        != "Kept on close"

    async def scenario():
        assert not window.close()  # "save": written off the UI thread, then the window closes itself
        await until(lambda: bool(closed))

    in_loop(scenario)
    assert answers.asked == [[DEMO_PROFILE_NAME], [DEMO_PROFILE_NAME]]
    assert ProfileStore(harness.profiles.path).get(DEMO_PROFILE_ID).message_templates.email_subject \
        == "Kept on close"


def test_a_failing_call_shows_a_clear_message_and_no_traceback(harness, in_loop, until, sandbox):
    window = harness.window
    tab = window.message_tab
    window.form.editors["base_url"].setText("http://127.0.0.1:9")  # nothing listens there

    async def scenario():
        window.tabs.setCurrentWidget(tab)
        assert tab.preview_outcomes()
        assert tab.cancel_button.isVisibleTo(tab) and not tab.preview_button.isEnabled()
        await until(lambda: not window.bridge.busy and tab.error_banner.isVisibleTo(tab), 15_000)

    in_loop(scenario)
    text = tab.error_banner.text()
    assert text.startswith("The outcomes could not be fetched: ")
    assert "Traceback" not in text and "Error(" not in text
    assert tab.preview_button.isEnabled() and not tab.cancel_button.isVisibleTo(tab)
    assert not tab.columns()


def test_cancel_stops_the_outcome_preview(harness, in_loop, until, sandbox):
    sandbox.admin.add_fault("GetRewardInfo", "latency", seconds=5, times=10)
    window = harness.window
    tab = window.message_tab

    async def scenario():
        window.tabs.setCurrentWidget(tab)
        assert tab.preview_outcomes()
        await until(lambda: tab.cancel_button.isVisibleTo(tab))
        tab.cancel_button.click()
        await until(lambda: not window.bridge.busy, 3_000)

    in_loop(scenario)
    assert tab.status_label.text().startswith("Cancelled.")
    assert not tab.cancel_button.isVisibleTo(tab) and tab.preview_button.isEnabled()
    assert tab.error_banner.isHidden()


def test_a_message_image_that_cannot_be_loaded_says_why_in_its_frame(harness, in_loop, until, sandbox):
    window = harness.window
    tab = window.message_tab
    missing = f"{sandbox.base_url}/images/no-such-image.png"
    set_templates(tab, dataclasses.replace(UNGUARDED, push_image_url=missing, in_app_image_url="not a url"))

    async def scenario():
        await preview_every_outcome(window, until)
        frame = tab.column(OutcomeKind.REWARD).frame(Channel.PUSH)
        await until(lambda: frame.image.note() not in ("", "Loading image…"))

    in_loop(scenario)
    push = tab.column(OutcomeKind.REWARD).frame(Channel.PUSH)
    assert push.image.note() == "The image server answered HTTP 404."
    assert not push.image.has_image()
    in_app = tab.column(OutcomeKind.REWARD).frame(Channel.IN_APP)
    assert in_app.image.note() == "No image: “not a url” is not an http(s) address."


def test_a_get_reward_tag_is_listed_first_as_a_billed_call(harness, in_loop, until, sandbox):
    tab = harness.window.message_tab
    tab.editors[(Channel.PUSH, "body")].setPlainText(
        f"{{% connected_content {sandbox.base_url}/prod/GetReward :method post :retry :save moments %}}\n"
        "{{moments.rewardNotificationText}}")

    async def scenario():
        await until(lambda: any(p.kind == "billing" for p in tab.problems()), 3_000)

    in_loop(scenario)
    billing = [p for p in tab.problems() if p.kind == "billing"]
    assert tab.problems()[:len(billing)] == billing  # before every other kind
    assert any(":retry" in p.message for p in billing)
    first = tab.problems_list.topLevelItem(0)
    assert first.text(0) == "Billed call"
    assert first.text(1).startswith("Push body 1:")
    assert "billed" in first.text(2)


def test_a_hidden_message_tab_checks_its_templates_only_when_first_shown(harness, monkeypatch):
    """The window opens on the Preview tab: the Message tab's checks (which import python-liquid, about
    100 ms) wait until the tab is shown, and then run at once."""
    from moments_desktop.core import message_preview

    calls = []
    real_check = message_preview.check_templates
    monkeypatch.setattr(message_preview, "check_templates", lambda *a, **k: calls.append(1) or real_check(*a, **k))
    window = harness.window
    tab = window.message_tab
    assert window.tabs.currentWidget() is not tab
    tab.show_profile(DEMO_PROFILE_ID)
    assert calls == []
    window.tabs.setCurrentWidget(tab)
    assert calls, "showing the tab checks the templates"
    assert tab.problems() == []  # the default templates are clean


def test_the_message_tab_shows_the_sessions_report_and_decides_nothing_itself(harness, monkeypatch):
    """The rules (what is rendered, which problems, in which order, which images) are the Session's: the
    tab shows the report it is given, and imports no part of the preview's rules."""
    import ast
    import inspect

    from moments_desktop.ui import message_tab

    reports = []
    real_report = harness.session.message_report

    def recording(templates, outcomes):
        report = real_report(templates, outcomes)
        reports.append(report)
        return report

    monkeypatch.setattr(harness.session, "message_report", recording)
    window = harness.window
    tab = window.message_tab
    window.tabs.setCurrentWidget(tab)
    tab.editors[(Channel.PUSH, "body")].setPlainText(
        "{{ moment.x }}{% connected_content https://h/prod/GetReward :retry %}")
    tab.render_now()
    assert reports, "the tab asks the Session"
    assert tab.problems() == list(reports[-1].problems)
    assert tab.problems()[0].kind == "billing"

    imported = set()
    for node in ast.walk(ast.parse(inspect.getsource(message_tab))):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert "moments_desktop.core.message_preview" not in imported
    assert "html.parser" not in imported  # the email's images are found by the core
