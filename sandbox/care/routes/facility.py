"""Facilities, their schedulable users and schedules (03, 85, 25, 24)."""

from __future__ import annotations

from aiohttp import web

from sandbox.care.auth import staff
from sandbox.care.records import Facility, User
from sandbox.care.web import UUID_RE, ctx, forbidden, not_found, ok, page

routes = web.RouteTableDef()


def facility_for(request: web.Request, user: User) -> Facility:
    """The facility of the path, if the user belongs to it (superusers see every facility)."""
    fac = ctx(request).store.facilities.get(request.match_info["fid"])
    if fac is None:
        raise not_found("Facility")
    if not (user.superuser or fac.id in user.facility_ids):
        raise forbidden("You do not have permission to access this facility")
    return fac


@routes.get("/api/v1/facility/")
async def facilities(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    visible = [f for f in c.store.facilities.values() if user.superuser or f.id in user.facility_ids]
    return page(request, [c.shapes.facility(f) for f in visible])


@routes.get(f"/api/v1/facility/{{fid:{UUID_RE}}}/")
async def facility(request: web.Request) -> web.Response:
    user = staff(request)
    return ok(ctx(request).shapes.facility_detail(facility_for(request, user), user))


@routes.get(f"/api/v1/facility/{{fid:{UUID_RE}}}/schedulable_users/")
async def schedulable_users(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    return page(request, [c.shapes.user_base(u) for u in c.store.schedulable_users(fac.id)])


@routes.get(f"/api/v1/facility/{{fid:{UUID_RE}}}/schedule/")
async def schedules(request: web.Request) -> web.Response:
    user = staff(request)
    c = ctx(request)
    fac = facility_for(request, user)
    if not user.can("can_list_schedule"):
        raise forbidden("You do not have permission to view user schedule")
    wanted = request.query.get("resource_id")
    found = [s for s in c.store.schedules.values() if s.facility_id == fac.id and (not wanted or s.user_id == wanted)]
    return page(request, [c.shapes.schedule(s) for s in found])
