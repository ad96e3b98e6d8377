"""The WSGI application: routing, bodies, policy and the calls on the plugins.

webob turns the WSGI environ into a request and builds the responses; routes
maps the path to a handler (the HTTP method is dispatched here, so that a known
path with a wrong method is a 405, not a 404). Every handler raises naas's
exceptions or :class:`~naas.api._faults.ApiError`, and :meth:`ApiApplication.__call__`
turns them into NeutronError responses; nothing a handler raises escapes as a
traceback.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import netaddr
import routes
import webob
from webob import Response

from naas.api import _query
from naas.api._auth import Caller, caller_from_environ
from naas.api._collections import Collection, make_collections
from naas.api._extensions import EXTENSIONS
from naas.api._faults import ApiError, error_response, response_for_exception
from naas.api.policies import ADMIN_ONLY_ATTRIBUTES, CONTEXT_IS_ADMIN, Enforcer
from naas.auto_allocate import DRY_RUN, AutoAllocatedTopologyMixin
from naas.context import RequestContext
from naas.exceptions import BadRequest, NotFound
from naas.plugins import CorePlugin, L3Plugin
from naas.requests import is_network_device_owner
from naas.resources import Resource

__all__ = ["ApiApplication", "VersionsApplication"]

LOG = logging.getLogger(__name__)

JSON: Final = "application/json"
_IF_MATCH = re.compile(r"^\s*revision_number\s*=\s*(\d{1,18})\s*$")
_UUID_LENGTH: Final = 36
DEFAULT_MAX_BODY_SIZE: Final = 114_688
"""oslo.middleware's default ``[oslo_middleware] max_request_body_size``: 112 KiB."""

Handler = Callable[..., Response]


def versions_document(request: webob.Request) -> dict[str, Any]:
    """The version discovery document (``GET /``): one version, v2.0, current."""
    href = request.host_url + request.script_name + "/v2.0/"
    return {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"href": href, "rel": "self"}]}]}


def _json(body: Any, status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(body).encode(), content_type=JSON, charset="utf-8")


def _no_content() -> Response:
    response = Response(status=204)
    response.content_type = None
    return response


class VersionsApplication:
    """``GET /``: version discovery, answered without authentication (clients ask before they have a token)."""

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = webob.Request(environ)
        if request.method not in ("GET", "HEAD"):
            response = error_response(405, "HTTPMethodNotAllowed", f"{request.method} is not allowed on /.")
            response.allow = ("GET", "HEAD")
        else:
            response = _json(versions_document(request))
        body: Iterable[bytes] = response(environ, start_response)
        return body


def _parse_json(request: webob.Request) -> Any:
    if not request.body:
        raise ApiError(400, "HTTPBadRequest", "The request has no body; a JSON object was expected.")
    content_type = request.content_type
    if content_type and content_type != JSON:
        raise ApiError(415, "HTTPUnsupportedMediaType", f"Unsupported content type {content_type[:64]!r}; send {JSON}.")

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        return json.loads(request.body.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = str(error) if isinstance(error, json.JSONDecodeError) else type(error).__name__
        raise ApiError(400, "HTTPBadRequest", f"Malformed request body: {reason[:200]}.") from None


def _resource_body(request: webob.Request, resource: str, collection: str) -> dict[str, Any]:
    body = _parse_json(request)
    if not isinstance(body, dict):
        raise ApiError(400, "HTTPBadRequest", f"The body must be a JSON object {{{resource!r}: {{...}}}}.")
    if collection in body and resource not in body:
        raise ApiError(400, "HTTPBadRequest", f"Bulk requests ({collection!r}) are not supported; send one {resource}.")
    if set(body) != {resource}:
        raise ApiError(400, "HTTPBadRequest", f"Unable to find {resource!r} alone in the request body.")
    inner = body[resource]
    if not isinstance(inner, dict):
        raise ApiError(400, "HTTPBadRequest", f"{resource!r} must be a JSON object of attributes.")
    return inner


def _if_revision(request: webob.Request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    matched = _IF_MATCH.match(header)
    if matched is None:
        raise ApiError(400, "HTTPBadRequest", "If-Match must be 'revision_number=<number>'.")
    return int(matched.group(1))


def _check_id(resource: str, value: str) -> str:
    """A path id that is no UUID names nothing: 404, as Neutron (clients then look the text up as a name)."""
    try:
        if len(value) == _UUID_LENGTH and str(uuid.UUID(value)) == value:
            return value
    except ValueError:
        pass
    shown = value if len(value) <= 64 and value.isprintable() else "given"
    raise NotFound(resource, shown)


def _split_fixed_ips_filter(filters: dict[str, list[str]]) -> tuple[dict[str, list[str]], set[str]]:
    """Neutron's ``fixed_ips=subnet_id=S`` / ``fixed_ips=ip_address=A`` (openstacksdk and the CLI send them).

    Subnet ids stay a plugin filter; addresses are returned to be matched here, a port matching when it holds
    any of them (and, with subnet ids too, sits on any of those subnets).
    """
    subnet_ids: list[str] = []
    addresses: set[str] = set()
    for value in filters["fixed_ips"]:
        key, separator, wanted = value.partition("=")
        if not separator:
            subnet_ids.append(value)
        elif key == "subnet_id":
            subnet_ids.append(wanted)
        elif key == "ip_address":
            try:
                addresses.add(str(netaddr.IPAddress(wanted)))
            except (netaddr.AddrFormatError, ValueError):
                raise BadRequest("port", "fixed_ips", f"{wanted[:64]!r} is not an IP address") from None
        else:
            raise BadRequest("port", "fixed_ips", f"filters on subnet_id=... or ip_address=..., not {key[:64]!r}")
    rest = {key: values for key, values in filters.items() if key != "fixed_ips"}
    if subnet_ids:
        rest["fixed_ips"] = subnet_ids
    return rest, addresses


class ApiApplication:
    """The ``/v2.0`` API over a core plugin, an L3 plugin and get-me-a-network; see :func:`naas.api.build_app`."""

    def __init__(
        self,
        core: CorePlugin,
        l3: L3Plugin,
        allocator: AutoAllocatedTopologyMixin,
        enforcer: Enforcer,
        auth_strategy: str,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.core = core
        self.max_body_size = max_body_size
        self.l3 = l3
        self.allocator = allocator
        self.enforcer = enforcer
        self.auth_strategy = auth_strategy
        self.collections = make_collections(core, l3)
        self.mapper = self._make_mapper()

    def _make_mapper(self) -> routes.Mapper:
        names = "|".join(re.escape(name) for name in self.collections)
        mapper = routes.Mapper()
        mapper.connect("/v2.0", handler="index")
        mapper.connect("/v2.0/extensions", handler="extensions")
        mapper.connect("/v2.0/extensions/{alias}", handler="extension")
        mapper.connect("/v2.0/auto-allocated-topology/{project_id}", handler="topology")
        mapper.connect(
            "/v2.0/routers/{id}/{action}",
            handler="router_action",
            requirements={"action": "add_router_interface|remove_router_interface"},
        )
        mapper.connect("/v2.0/{collection}/{id}/tags/{tag}", handler="tag", requirements={"collection": names})
        mapper.connect("/v2.0/{collection}/{id}/tags", handler="tags", requirements={"collection": names})
        mapper.connect("/v2.0/{collection}/{id}", handler="member", requirements={"collection": names})
        mapper.connect("/v2.0/{collection}", handler="collection", requirements={"collection": names})
        return mapper

    # WSGI

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = webob.Request(environ)
        request_id: str | None = environ.get("openstack.request_id")
        try:
            response = self._dispatch(request)
        except Exception as error:
            response = response_for_exception(error, request_id)
        body: Iterable[bytes] = response(environ, start_response)
        return body

    def _dispatch(self, request: webob.Request) -> Response:
        path = request.path_info
        if path.endswith(".json"):
            path = path.removesuffix(".json")
        if len(path) > 1:
            path = path.rstrip("/")
        match = self.mapper.match(path)
        if match is None:
            raise ApiError(404, "HTTPNotFound", "The resource could not be found.")
        handler_name = match.pop("handler")
        methods: dict[str, Handler] = getattr(self, f"_routes_{handler_name}")()
        handler = methods.get(request.method)
        if handler is None:
            if request.method == "HEAD" and "GET" in methods:
                handler = methods["GET"]
            else:
                response = error_response(
                    405, "HTTPMethodNotAllowed", f"{request.method} is not allowed on {path[:200]}."
                )
                response.allow = sorted(methods)
                return response
        if request.method in ("POST", "PUT"):
            self._read_body(request)
        caller = caller_from_environ(request.environ, self.auth_strategy)
        context = caller.context(is_admin=self._passes(CONTEXT_IS_ADMIN, caller.credentials, caller))
        return handler(request, caller, context, **match)

    def _read_body(self, request: webob.Request) -> None:
        """Read the body once, refusing one larger than ``max_body_size`` (413) before reading it."""
        too_large = ApiError(
            413, "HTTPRequestEntityTooLarge", f"Request body is larger than {self.max_body_size} bytes."
        )
        length = request.content_length
        if length is not None and length > self.max_body_size:
            raise too_large
        data = request.body_file.read(self.max_body_size + 1) if request.is_body_readable else b""
        if len(data) > self.max_body_size:
            raise too_large
        request.body = data

    # Policy

    def _passes(self, rule: str, target: Mapping[str, Any], caller: Caller) -> bool:
        return self.enforcer.passes(rule, target, caller.credentials, credentials_key=caller.credentials_key)

    def _authorize(self, rule: str, target: Mapping[str, Any], caller: Caller) -> None:
        if not self._passes(rule, target, caller):
            raise ApiError(403, "PolicyNotAuthorized", f"Rule {rule!r} does not allow this request.")

    def _target(self, context: RequestContext, collection: Collection, resource: Resource) -> dict[str, Any]:
        """What the rules are checked on: the resource's wire form (see :meth:`_target_of`)."""
        return self._target_of(context, collection, resource.to_dict())

    def _target_of(
        self,
        context: RequestContext,
        collection: Collection,
        body: dict[str, Any],
        networks: dict[str, tuple[bool, bool]] | None = None,
    ) -> dict[str, Any]:
        """The target for a resource's wire form ``body``: itself, and for a subnet whether its network is
        shared or external (``networks`` remembers those flags across one list)."""
        if collection.resource != "subnet":
            return body
        network_id = str(body["network_id"])
        known = networks if networks is not None else {}
        if network_id not in known:
            try:
                network = self.core.get_network(context.elevated(), network_id)
                known[network_id] = (network.shared, network.router_external)
            except NotFound:  # deleted since the subnet was read: it grants nothing
                known[network_id] = (False, False)
        shared, external = known[network_id]
        return {**body, "network:shared": shared, "network:router:external": external}

    def _visible(self, caller: Caller, context: RequestContext, collection: Collection, resource: Resource) -> bool:
        target = self._target(context, collection, resource)
        return self._passes(f"get_{collection.resource}", target, caller)

    def _visible_bodies(
        self, caller: Caller, context: RequestContext, collection: Collection, resources: list[Resource]
    ) -> list[tuple[Resource, dict[str, Any]]]:
        """The resources of a list that the ``get_`` rule lets the caller see, each with its wire form.

        The enforcer evaluates the rule once per distinct value of the target attributes it reads
        (:meth:`~naas.api.policies.Enforcer.passes`), not once per resource.
        """
        rule = f"get_{collection.resource}"
        networks: dict[str, tuple[bool, bool]] = {}
        visible = []
        for resource in resources:
            body = resource.to_dict()
            if self._passes(rule, self._target_of(context, collection, body, networks), caller):
                visible.append((resource, body))
        return visible

    def _authorize_attributes(
        self, action: str, collection: Collection, body: Mapping[str, Any], caller: Caller
    ) -> None:
        for name in ADMIN_ONLY_ATTRIBUTES.get(collection.resource, {}).get(action, ()):
            outer, _, inner = name.partition(":") if name.startswith("external_gateway_info:") else (name, "", "")
            value = body.get(outer)
            if inner:
                if not isinstance(value, dict) or inner not in value:
                    continue
            elif outer not in body:
                continue
            if outer == "device_owner" and not is_network_device_owner(value):
                continue
            self._authorize(f"{action}_{collection.resource}:{name}", body, caller)

    def _fetch(self, caller: Caller, context: RequestContext, collection: Collection, resource_id: str) -> Resource:
        """The resource, or NotFound when the plugin or the ``get_`` rule hides it from the caller."""
        resource = collection.get(context, _check_id(collection.resource, resource_id))
        if not self._visible(caller, context, collection, resource):
            raise NotFound(collection.resource, resource_id)
        return resource

    # Routes

    def _routes_index(self) -> dict[str, Handler]:
        return {"GET": self._index}

    def _routes_extensions(self) -> dict[str, Handler]:
        return {"GET": self._list_extensions}

    def _routes_extension(self) -> dict[str, Handler]:
        return {"GET": self._show_extension}

    def _routes_topology(self) -> dict[str, Handler]:
        return {"GET": self._get_topology, "DELETE": self._delete_topology}

    def _routes_router_action(self) -> dict[str, Handler]:
        return {"PUT": self._router_interface}

    def _routes_collection(self) -> dict[str, Handler]:
        return {"GET": self._list, "POST": self._create}

    def _routes_member(self) -> dict[str, Handler]:
        return {"GET": self._show, "PUT": self._update, "DELETE": self._delete}

    def _routes_tags(self) -> dict[str, Handler]:
        return {"GET": self._list_tags, "PUT": self._replace_tags, "DELETE": self._remove_all_tags}

    def _routes_tag(self) -> dict[str, Handler]:
        return {"GET": self._check_tag, "PUT": self._add_tag, "DELETE": self._remove_tag}

    # Discovery

    def _index(self, request: webob.Request, caller: Caller, context: RequestContext) -> Response:
        base = request.host_url + request.script_name + "/v2.0/"
        resources = [
            {"name": c.resource, "collection": c.collection, "links": [{"href": base + c.collection, "rel": "self"}]}
            for c in self.collections.values()
        ]
        return _json({"resources": resources})

    def _list_extensions(self, request: webob.Request, caller: Caller, context: RequestContext) -> Response:
        return _json({"extensions": [dict(extension) for extension in EXTENSIONS.values()]})

    def _show_extension(self, request: webob.Request, caller: Caller, context: RequestContext, alias: str) -> Response:
        extension = EXTENSIONS.get(alias)
        if extension is None:
            shown = alias if len(alias) <= 64 and alias.isprintable() else "given"
            raise ApiError(404, "ExtensionNotFound", f"Extension with alias {shown} does not exist.")
        return _json({"extension": dict(extension)})

    # Collections

    def _list(self, request: webob.Request, caller: Caller, context: RequestContext, collection: str) -> Response:
        kind = self.collections[collection]
        query = _query.parse_list_query(request.GET, kind.sortable())
        filters = dict(query.filters)
        addresses: set[str] = set()
        if kind.resource == "port" and "fixed_ips" in filters:
            filters, addresses = _split_fixed_ips_filter(filters)
        found = self._visible_bodies(caller, context, kind, list(kind.get_all(context, filters)))
        if addresses:
            found = [
                (r, body) for r, body in found if addresses & {str(ip.ip_address) for ip in getattr(r, "fixed_ips", ())}
            ]
        bodies = _query.sort_resources([body for _, body in found], query.sort, query.limit is not None)
        page, more, less = _query.paginate(bodies, query, collection)
        result: dict[str, Any] = {collection: [self._shown(body, query.fields) for body in page]}
        links = _query.page_links(request, collection, page, query, more, less)
        if links:
            result[f"{collection}_links"] = links
        return _json(result)

    @staticmethod
    def _shown(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        return {key: value for key, value in body.items() if key in fields} if fields else body

    def _show(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> Response:
        kind = self.collections[collection]
        resource = self._fetch(caller, context, kind, id)
        fields = _query.parse_fields(request.GET)
        return _json({kind.resource: self._shown(resource.to_dict(), fields)})

    def _create(self, request: webob.Request, caller: Caller, context: RequestContext, collection: str) -> Response:
        kind = self.collections[collection]
        body = _resource_body(request, kind.resource, collection)
        owner = body.get("project_id", body.get("tenant_id", caller.project_id))
        self._authorize(f"create_{kind.resource}", {**body, "project_id": owner, "tenant_id": owner}, caller)
        self._authorize_attributes("create", kind, body, caller)
        resource = kind.create(context, body)
        return _json({kind.resource: resource.to_dict()}, status=201)

    def _update(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> Response:
        kind = self.collections[collection]
        body = _resource_body(request, kind.resource, collection)
        if_revision = _if_revision(request)
        current = self._fetch(caller, context, kind, id)
        self._authorize(f"update_{kind.resource}", self._target(context, kind, current), caller)
        self._authorize_attributes("update", kind, body, caller)
        if kind.resource == "router" and body.get("external_gateway_info") == {}:
            body = {**body, "external_gateway_info": None}  # {} clears the gateway, as null does
        resource = kind.update(context, id, body, if_revision)
        return _json({kind.resource: resource.to_dict()})

    def _delete(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> Response:
        kind = self.collections[collection]
        if_revision = _if_revision(request)
        current = self._fetch(caller, context, kind, id)
        self._authorize(f"delete_{kind.resource}", self._target(context, kind, current), caller)
        kind.delete(context, id, if_revision)
        return _no_content()

    # Router interfaces

    def _router_interface(
        self, request: webob.Request, caller: Caller, context: RequestContext, id: str, action: str
    ) -> Response:
        body = _parse_json(request)
        if not isinstance(body, dict):
            raise ApiError(
                400, "HTTPBadRequest", "The body must be a JSON object {'subnet_id': ...} or {'port_id': ...}."
            )
        router = self._fetch(caller, context, self.collections["routers"], id)
        self._authorize(action, router.to_dict(), caller)
        if action == "add_router_interface":
            info = self.l3.add_router_interface(context, id, body)
        else:
            info = self.l3.remove_router_interface(context, id, body)
        return _json(info.to_dict())

    # Tags: read the resource's whole set, change it, write it back with an update

    def _tags_of(
        self, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> tuple[Collection, Resource]:
        kind = self.collections[collection]
        resource = self._fetch(caller, context, kind, id)
        return kind, resource

    def _write_tags(
        self,
        request: webob.Request,
        caller: Caller,
        context: RequestContext,
        kind: Collection,
        current: Resource,
        tags: list[str],
    ) -> Resource:
        self._authorize(f"update_{kind.resource}", self._target(context, kind, current), caller)
        return kind.update(context, str(current.to_dict()["id"]), {"tags": tags}, _if_revision(request))

    @staticmethod
    def _current_tags(resource: Resource) -> list[str]:
        return list(resource.to_dict().get("tags", []))

    def _list_tags(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> Response:
        _, resource = self._tags_of(caller, context, collection, id)
        return _json({"tags": self._current_tags(resource)})

    def _replace_tags(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> Response:
        body = _parse_json(request)
        if not isinstance(body, dict) or set(body) != {"tags"} or not isinstance(body["tags"], list):
            raise ApiError(400, "HTTPBadRequest", "The body must be {'tags': [...]}.")
        kind, resource = self._tags_of(caller, context, collection, id)
        updated = self._write_tags(request, caller, context, kind, resource, body["tags"])
        return _json({"tags": self._current_tags(updated)})

    def _remove_all_tags(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str
    ) -> Response:
        kind, resource = self._tags_of(caller, context, collection, id)
        self._write_tags(request, caller, context, kind, resource, [])
        return _no_content()

    def _check_tag(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str, tag: str
    ) -> Response:
        _, resource = self._tags_of(caller, context, collection, id)
        if tag not in self._current_tags(resource):
            raise ApiError(404, "TagNotFound", f"Tag {tag[:64]!r} could not be found on {collection[:-1]} {id}.")
        return _no_content()

    def _add_tag(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str, tag: str
    ) -> Response:
        kind, resource = self._tags_of(caller, context, collection, id)
        tags = self._current_tags(resource)
        if tag not in tags:
            self._write_tags(request, caller, context, kind, resource, [*tags, tag])
        return _no_content() if tag in tags else Response(status=201, content_type=None)

    def _remove_tag(
        self, request: webob.Request, caller: Caller, context: RequestContext, collection: str, id: str, tag: str
    ) -> Response:
        kind, resource = self._tags_of(caller, context, collection, id)
        tags = self._current_tags(resource)
        if tag not in tags:
            raise ApiError(404, "TagNotFound", f"Tag {tag[:64]!r} could not be found on {kind.resource} {id}.")
        self._write_tags(request, caller, context, kind, resource, [t for t in tags if t != tag])
        return _no_content()

    # Get me a network

    def _get_topology(
        self, request: webob.Request, caller: Caller, context: RequestContext, project_id: str
    ) -> Response:
        target_project = caller.project_id if project_id == "None" else project_id
        self._authorize(
            "get_auto_allocated_topology", {"project_id": target_project, "tenant_id": target_project}, caller
        )
        fields = list(_query.parse_fields(request.GET))
        result = dict(self.allocator.get_auto_allocated_topology(context, target_project, fields or None))
        result.setdefault("tenant_id", result.get("project_id"))
        if DRY_RUN in fields:
            result["dry_run"] = "pass"  # openstacksdk's ValidateTopology and the CLI's --check-resources read it
        return _json({"auto_allocated_topology": result})

    def _delete_topology(
        self, request: webob.Request, caller: Caller, context: RequestContext, project_id: str
    ) -> Response:
        target_project = caller.project_id if project_id == "None" else project_id
        self._authorize(
            "delete_auto_allocated_topology", {"project_id": target_project, "tenant_id": target_project}, caller
        )
        self.allocator.delete_auto_allocated_topology(context, target_project)
        return _no_content()
