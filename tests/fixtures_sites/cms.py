"""Generic CMS listing shapes seen on real portals, served by the fault server's routes.

``install_script_paged_column``: a column whose page 1 is HTML and whose further pages exist only
as a listing API the page's script calls with a page number and size (TRS ``list2.trsapi``-style
``$.ajax({url, data: {channelid, pageNo, pageSize}})``), the total count in a script variable. The
API answers JSON and insists on its channel id, so a crawler that drops a parameter gets nothing.
Not a copy of any real site.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.fixtures_sites.fault_server import FixtureServer, send

CHANNEL = "4412"


def _title(agency: str, year: int) -> str:
    return f"{agency}{year}年政府信息公开工作年度报告"


def install_script_paged_column(site: FixtureServer, *, prefix: str = "/cms", agency: str = "示范市统计局",
                                total: int = 23, page_size: int = 10, first_year: int = 2023) -> str:
    """Register the column's routes; returns the listing URL. Items are reports for the years
    ``first_year`` down to ``first_year - total + 1``, newest first."""
    years = [first_year - i for i in range(total)]

    def article(year: int) -> str:
        return f"{prefix}/art/{year}/t{year}0120_{year}.html"

    first = "".join(f'<li><a href="{article(y)}" title="{_title(agency, y)}">{_title(agency, y)[:18]}...</a>'
                    f"<span>{y + 1}-01-20</span></li>" for y in years[:page_size])
    index = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{agency} 政府信息公开年报</title>
<script type="text/javascript" src="{prefix}/js/jquery.min.js"></script></head><body>
<ul class="xxgk_list" id="list">{first}</ul><div id="pager"></div>
<script type="text/javascript">
  var channelId = "{CHANNEL}";
  var pageSize = {page_size};
  var totalCount = {total};
  function loadList(pageNo) {{
    $.ajax({{
      url: "{prefix}/api/list2.trsapi",
      type: "GET",
      dataType: "json",
      data: {{ channelid: channelId, pageNo: pageNo, pageSize: pageSize, sort: "-docreltime" }},
      success: function (res) {{ render(res.data.list); }}
    }});
  }}
  $(function () {{ pager({{ total: totalCount, size: pageSize, current: 1, onPage: loadList }}); }});
</script></body></html>"""

    def listing(h) -> None:
        send(h, 200, index.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def api(h) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}
        if q.get("channelid") != CHANNEL or not q.get("pageNo", "").isdigit():
            send(h, 400, b'{"code": 400, "msg": "channelid and pageNo required"}', {"Content-Type": "application/json"})
            return
        n, size = int(q["pageNo"]), int(q.get("pageSize", "10"))
        chunk = years[(n - 1) * size: n * size]
        body = {"code": 0, "data": {"total": total, "pageNo": n, "list": [
            {"title": _title(agency, y), "url": article(y), "docreltime": f"{y + 1}-01-20 09:00:00"} for y in chunk]}}
        send(h, 200, json.dumps(body, ensure_ascii=False).encode(), {"Content-Type": "application/json"})

    site.routes[f"{prefix}/col/nb/index.html"] = listing
    site.routes[f"{prefix}/api/list2.trsapi"] = api
    for y in years:
        page = (f"<html><head><meta charset='utf-8'><title>{_title(agency, y)}</title></head>"
                f"<body><h1>{_title(agency, y)}</h1><p>一、总体情况</p></body></html>").encode()
        site.routes[article(y)] = (lambda body: lambda h: send(h, 200, body, {"Content-Type": "text/html; charset=utf-8"}))(page)
    return site.url(f"{prefix}/col/nb/index.html")
