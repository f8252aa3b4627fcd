"""A preview's answer reaches its caller before its journal row is written (Session.preview's ``answered``),
and the row is still written before Session.preview returns, whatever the early reader does."""

from __future__ import annotations

import pytest
from session_helpers import run_session as run  # tests/core/session_helpers.py

from moments_desktop.api_schema import Endpoint
from moments_desktop.core.errors import MomentsError
from moments_desktop.core.profiles import DEMO_PROFILE_ID


def test_the_answer_is_handed_over_redacted_and_remembered_then_journaled(sandbox, tmp_path):
    async def scenario(s):
        seen = []

        def answered(result):
            # what the window is handed: the reward, already remembered for the claim plan
            seen.append((result, s.plan_claim(DEMO_PROFILE_ID).last_preview))

        result = await s.preview(DEMO_PROFILE_ID, answered=answered)
        [(early, last)] = seen
        assert early is result and result.ok
        assert last is not None and last.reward.remaining_count == 100
        assert sandbox.demo_key not in repr(result.reward)
        # written by the time preview returns: one row, the preview's
        [row] = s.journal.query()
        assert row.endpoint == Endpoint.GET_REWARD_INFO and row.profile_id == DEMO_PROFILE_ID

    run(sandbox, tmp_path, scenario)


def test_an_early_reader_that_fails_does_not_stop_the_journal_write(sandbox, tmp_path):
    async def scenario(s):
        def answered(_result):
            raise RuntimeError("a widget fell over")

        with pytest.raises(MomentsError):
            await s.preview(DEMO_PROFILE_ID, answered=answered)
        assert s.journal.count() == 1  # the answer that came back is journaled all the same

    run(sandbox, tmp_path, scenario)


def test_the_embedded_sandbox_key_is_read_without_a_keychain_thread(sandbox, tmp_path):
    """The demo key is held in memory: a preview of the built-in profile starts no keychain job."""
    async def scenario(s):
        started = []
        real = s._run_keychain

        async def recording(fn, *args):
            started.append(fn)
            return await real(fn, *args)

        s._run_keychain = recording
        result = await s.preview(DEMO_PROFILE_ID)
        assert result.ok and started == []

    run(sandbox, tmp_path, scenario)
