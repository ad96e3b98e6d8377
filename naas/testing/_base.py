"""What every conformance suite shares: the TestCase shim, capability checks and assertion helpers.

The suites are mixins: at run time they derive from :class:`object` so that the
driver author chooses the ``TestCase``. ``unittest.TestCase`` is the one to
choose: its failures read cleanly under pytest and under ``python -m unittest``
alike (``testtools.TestCase`` works too, but pytest prints an unrelated
traceback of its own before each of its failures). Type checkers see
``unittest.TestCase`` as the base so that ``self.assertEqual`` and friends are
typed. Only the ``unittest.TestCase`` API is used.

What a plugin supports is declared on the plugin class (:mod:`naas.capabilities`),
never on the test case: a ``supports_*`` attribute on a suite's subclass, the
way older suites were told, is an error when the class is defined.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar, cast

from naas.capabilities import Capability
from naas.context import RequestContext
from naas.exceptions import BadRequest, NaasError, NotFound
from naas.testing.fixtures import StoredState

if TYPE_CHECKING:
    from unittest import TestCase as _TestCaseBase
else:
    _TestCaseBase = object

__all__ = ["MALFORMED_ID", "MISSING_ID", "ConformanceCase", "requires"]

ErrorT = TypeVar("ErrorT", bound=BaseException)
ResultT = TypeVar("ResultT")
P = ParamSpec("P")
TestMethod = TypeVar("TestMethod", bound=Callable[..., None])


MISSING_ID = "8b3c7d0e-5f2a-4c1e-9d6b-0a1b2c3d4e5f"
"""A well-formed UUID that no plugin under test has handed out."""

MALFORMED_ID = "not-a-uuid"
"""An id that is no UUID."""


def _show(value: Any) -> str:
    if isinstance(value, RequestContext):
        return f"<context {value.project_id}{' admin' if value.is_admin else ''}>"
    return repr(value)


def _describe_call(call: Callable[..., object], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    name = getattr(call, "__qualname__", repr(call))
    shown = [_show(arg) for arg in args] + [f"{key}={_show(value)}" for key, value in kwargs.items()]
    return f"{name}({', '.join(shown)})"


class ConformanceCase(_TestCaseBase):
    """Base of the conformance mixins.

    Subclasses implement :meth:`stored_state` and :meth:`declared_capabilities`.
    A test decorated with :func:`requires` is skipped, with the plugin and the
    capability named in the reason, when a plugin under test does not declare
    the capability.

    A test case lists the suite tests its plugins are known to fail in
    ``expected_failures``, each name mapped to why (a bug report): they run
    as expected failures, and one that starts passing is reported as an
    unexpected success, so the list cannot outlive the bug. A name that is no
    test of the suite is an error when the class is defined.
    """

    #: Suite tests known to fail for the plugins under test, mapped to the reason.
    expected_failures: ClassVar[Mapping[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        flags = sorted(name for name in vars(cls) if name.startswith("supports_"))
        if flags:
            raise TypeError(
                f"{cls.__qualname__} sets {', '.join(flags)}: the suites no longer read flags from the test case. "
                "Declare what the plugin supports on the plugin class instead, e.g. "
                "CAPABILITIES = CorePlugin.CAPABILITIES - {Capability.SUBNETPOOL_QUOTAS} (see naas.capabilities)"
            )
        for name, reason in vars(cls).get("expected_failures", {}).items():
            test = getattr(cls, name, None) if name.startswith("test_") else None
            if not callable(test):
                raise TypeError(f"{cls.__qualname__}.expected_failures names {name!r}, which is no test of the suite")
            setattr(cls, name, _expecting_failure(test, reason))

    def stored_state(self) -> StoredState:
        """Everything the plugins under test hold, for "nothing was stored" checks."""
        raise NotImplementedError(f"{type(self).__name__} must implement stored_state()")

    def declared_capabilities(self) -> list[tuple[object, frozenset[Capability], frozenset[Capability]]]:
        """For each plugin under test: the plugin, what its class declares, and what its kind may declare."""
        return []

    def require(self, *capabilities: Capability) -> None:
        """Skip the running test unless every plugin under test that may declare a capability declares it."""
        missing = [
            f"{type(plugin).__name__} does not declare Capability.{capability.name}"
            for capability in capabilities
            for plugin, declared, allowed in self.declared_capabilities()
            if capability in allowed and capability not in declared
        ]
        if missing:
            self.skipTest("; ".join(missing))

    def assertRaisesError(
        self,
        error_type: type[ErrorT] | tuple[type[ErrorT], ...],
        call: Callable[P, object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> ErrorT:
        """Call ``call`` and return the error it raised, failing unless it is an ``error_type``.

        Works alike under ``unittest`` and ``testtools``, whose ``assertRaises``
        differ in what they return.
        """
        described = _describe_call(call, args, kwargs)
        try:
            result = call(*args, **kwargs)
        except error_type as error:
            return error
        except NaasError as error:
            # The plugin's own traceback is the cause worth reading, so it is chained, not hidden.
            raise self.failureException(
                f"{described} raised {type(error).__name__} ({error}), expected {_names(error_type)}"
            ) from error
        self.fail(f"{described} returned {result!r}, expected it to raise {_names(error_type)}")

    def assertRefused(
        self,
        error_type: type[ErrorT] | tuple[type[ErrorT], ...],
        call: Callable[P, object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> ErrorT:
        """Like :meth:`assertRaisesError`, and check that the failed call stored nothing."""
        with self.assertStateUnchanged(_describe_call(call, args, kwargs)):
            return self.assertRaisesError(error_type, call, *args, **kwargs)

    def assertBadRequest(
        self,
        resource: str,
        attribute: str,
        call: Callable[P, object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> BadRequest:
        """The call is refused with a BadRequest naming ``resource`` and ``attribute``; nothing is stored."""
        error = self.assertRefused(BadRequest, call, *args, **kwargs)
        self.assertEqual(
            (resource, attribute),
            (error.resource, error.attribute),
            f"{_describe_call(call, args, kwargs)} raised BadRequest naming the wrong attribute: {error}",
        )
        return error

    def assertNotFound(
        self,
        resource: str,
        resource_id: str,
        call: Callable[P, object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> NotFound:
        """The call is refused with a NotFound naming ``resource`` and ``resource_id``; nothing is stored."""
        error = self.assertRefused(NotFound, call, *args, **kwargs)
        self.assertEqual(
            (resource, resource_id),
            (error.resource, error.resource_id),
            f"{_describe_call(call, args, kwargs)} raised NotFound naming the wrong resource: {error}",
        )
        return error

    def assertNestedBadRequest(
        self,
        resource: str,
        attribute: str,
        call: Callable[P, object],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> BadRequest:
        """A BadRequest about an entry of a nested attribute (``fixed_ips``, ``external_gateway_info``).

        Accepted: the error names ``attribute`` of ``resource``, or it names
        ``attribute`` as its resource (an attribute of the nested entry, as
        ``naas.requests`` reports errors inside nested requests). Nothing is stored.
        """
        error = self.assertRefused(BadRequest, call, *args, **kwargs)
        if (error.resource, error.attribute) != (resource, attribute) and error.resource != attribute:
            self.fail(
                f"{_describe_call(call, args, kwargs)} raised BadRequest naming {error.resource}.{error.attribute}, "
                f"expected it to name {resource}.{attribute} or an attribute of {attribute}: {error}"
            )
        return error

    def callWithin(self, seconds: float, call: Callable[P, ResultT], /, *args: P.args, **kwargs: P.kwargs) -> ResultT:
        """Return ``call(*args, **kwargs)``, failing the test if it has not returned after ``seconds``.

        For calls that could deadlock (a subscriber calling back into a plugin
        that still holds its lock): the test fails with a message instead of hanging.
        """
        outcome: list[ResultT] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(call(*args, **kwargs))
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=run, name="naas-conformance-call", daemon=True)
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            self.fail(f"{_describe_call(call, args, kwargs)} did not return within {seconds} s (deadlock?)")
        if errors:
            raise errors[0]
        return outcome[0]

    @contextlib.contextmanager
    def assertStateUnchanged(self, what: str = "the block") -> Iterator[None]:
        """Fail if the plugins' stored state differs after the block from before it."""
        before = self.stored_state()
        yield
        after = self.stored_state()
        if before != after:
            changed = sorted(key for key in set(before) | set(after) if before.get(key) != after.get(key))
            self.fail(f"{what} failed but changed stored {', '.join(changed)}:\nbefore: {before}\nafter:  {after}")


def _expecting_failure(test: Callable[..., None], reason: str) -> Callable[..., None]:
    @functools.wraps(test)
    def run(self: ConformanceCase) -> None:
        test(self)

    run.__doc__ = f"Expected to fail: {reason}"
    # The marker unittest (and pytest's unittest support) read to report an expected failure.
    run.__unittest_expecting_failure__ = True  # type: ignore[attr-defined]
    return run


def _names(error_type: type[BaseException] | tuple[type[BaseException], ...]) -> str:
    if isinstance(error_type, tuple):
        return " or ".join(kind.__name__ for kind in error_type)
    return error_type.__name__


def requires(*capabilities: Capability) -> Callable[[TestMethod], TestMethod]:
    """Run the decorated test only if the plugins under test declare each of ``capabilities``."""

    def decorate(test: TestMethod) -> TestMethod:
        @functools.wraps(test)
        def run(self: ConformanceCase, *args: Any, **kwargs: Any) -> None:
            self.require(*capabilities)
            test(self, *args, **kwargs)

        return cast(TestMethod, run)

    return decorate
