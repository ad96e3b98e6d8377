"""Owner tokens: a builder is judged dead only on evidence that holds across PID namespaces and hosts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

import testtools

from naas.auto_allocate import OwnerToken, TopologyRecord, TopologyStatus
from naas.auto_allocate.store import new_owner_token, owner_is_dead


def _exited_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


class TestOwnerToken(testtools.TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.here = OwnerToken.current()
        if not (self.here.boot_id and self.here.pid_namespace):
            self.skipTest("this system does not expose a boot id and PID namespaces")

    def test_round_trip_and_uniqueness(self) -> None:
        text = new_owner_token()
        token = OwnerToken.parse(text)
        assert token is not None
        self.assertEqual(text, str(token))
        self.assertEqual(
            (self.here.host, self.here.boot_id, self.here.pid_namespace, os.getpid()),
            (token.host, token.boot_id, token.pid_namespace, token.pid),
        )
        self.assertNotEqual(text, new_owner_token())

    def test_the_calling_process_is_alive(self) -> None:
        self.assertFalse(owner_is_dead(new_owner_token()))

    def test_an_exited_process_of_this_namespace_is_dead(self) -> None:
        self.assertTrue(owner_is_dead(str(dataclasses.replace(self.here, pid=_exited_pid()))))

    def test_a_missing_pid_elsewhere_proves_nothing(self) -> None:
        exited = dataclasses.replace(self.here, pid=_exited_pid())
        elsewhere = {
            "another PID namespace, same host name and boot (a host-network container)": dataclasses.replace(
                exited, pid_namespace=exited.pid_namespace + "1"
            ),
            "another boot of the kernel": dataclasses.replace(exited, boot_id="0" * 32),
            "another host": dataclasses.replace(exited, host="elsewhere", boot_id="1" * 32),
            "unknown namespace": dataclasses.replace(exited, pid_namespace=""),
        }
        for case, token in elsewhere.items():
            with self.subTest(case):
                self.assertFalse(owner_is_dead(str(token)))

    def test_tokens_in_other_formats_are_left_to_the_lease(self) -> None:
        for text in (f"{self.here.host}:{_exited_pid()}:abc", "", "a:b:c:d:e", "a:b:c:-1:e", "x" * 300):
            with self.subTest(text=text):
                self.assertFalse(owner_is_dead(text))

    def test_a_lease_ends_the_trust_in_any_owner(self) -> None:
        elsewhere = dataclasses.replace(self.here, pid_namespace=self.here.pid_namespace + "1", pid=_exited_pid())
        record = TopologyRecord("p", TopologyStatus.BUILDING, owner=str(elsewhere), lease_expires_at=time.time() + 60)
        self.assertFalse(record.is_abandoned())
        self.assertTrue(record.is_abandoned(now=time.time() + 61))

    def test_tokens_fit_the_stores_owner_column(self) -> None:
        self.assertLessEqual(len(new_owner_token()), 255)
