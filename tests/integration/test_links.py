"""`HttpResponse.links`: the Link header parsed, in httpx's shape, from a real server."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from conftest import Serve
from httpdeck.client import HTTPClient

pytestmark = pytest.mark.asyncio

PAGES = 3


def paginated_app() -> web.Application:
    async def items(request: web.Request) -> web.Response:
        page = int(request.query.get("page", "1"))
        base = request.url.with_query(None)
        links = [f'<{base.with_query(page=1)}>; rel="first"']
        if page < PAGES:
            links.append(f'<{base.with_query(page=page + 1)}>; rel="next"')
        if page > 1:
            links.append(f'<{base.with_query(page=page - 1)}>; rel="prev"')
        return web.json_response([page], headers={"Link": ", ".join(links)})

    app = web.Application()
    app.router.add_get("/items", items)
    return app


def app_answering(headers: dict[str, str]) -> web.Application:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(text="", headers=headers)

    app = web.Application()
    app.router.add_get("/", answer)
    return app


async def test_links_follow_the_pagination_of_a_real_server(serve: Serve) -> None:
    url = await serve(paginated_app())
    seen = []
    async with HTTPClient() as client:
        next_url: str | None = str(url / "items")
        while next_url is not None:
            response = (await client.get(next_url)).unwrap()
            seen += response.json()
            next_url = response.links.get("next", {}).get("url")
        assert response.links["prev"] == {"url": str(url / "items" % {"page": 2}), "rel": "prev"}
        assert set(response.links) == {"first", "prev"}
    assert seen == [1, 2, 3]


async def test_no_link_header_is_an_empty_dict(serve: Serve) -> None:
    url = await serve(app_answering({}))
    async with HTTPClient() as client:
        assert (await client.get(url)).unwrap().links == {}


@pytest.mark.parametrize(
    "header",
    [
        '<https://api.test/items?page=2>; rel="next", <https://api.test/items?page=9>; rel="last"',
        "<https://api.test/a>; rel=next; title=plain",
        "<https://api.test/no-rel>; type=text/html",
        "<https://api.test/a>",
        '<https://api.test/1>; rel="next", <https://api.test/2>; rel="next"',
    ],
)
async def test_links_have_httpx_s_shape(serve: Serve, header: str) -> None:
    url = await serve(app_answering({"Link": header}))
    async with HTTPClient() as client:
        links = (await client.get(url)).unwrap().links
    assert links == httpx.Response(200, headers={"Link": header}).links


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # httpx splits the quoted title at its ';' and keeps "REL" as written.
        (
            '<https://api.test/a>; rel="next"; title="a, b; c"',
            {"next": {"url": "https://api.test/a", "rel": "next", "title": "a, b; c"}},
        ),
        (
            '<https://api.test/a,b>; REL="Next"',
            {"Next": {"url": "https://api.test/a,b", "rel": "Next"}},
        ),
    ],
)
async def test_links_follow_rfc_8288_where_httpx_does_not(
    serve: Serve, header: str, expected: object
) -> None:
    url = await serve(app_answering({"Link": header}))
    async with HTTPClient() as client:
        assert (await client.get(url)).unwrap().links == expected
