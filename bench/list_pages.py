#!/usr/bin/env python3
"""Time the ticket list and the user lists page by page with SDK-signed requests (issue 15).

    bench/list_pages.py --data-dir DIR [--requests N] [--database-url URL] [--wrk SECONDS]

Starts arca (ARCA_BIN) on a data directory bench/seed_rows.py filled, sends each page's request N times
one after another on one connection (after a few warm-up requests) and prints p50/p99 in milliseconds per
page kind, as JSON lines. The times are the Python client's, its signing included (about 1 ms); with
`--wrk`, each page's request is also signed once and replayed by wrk on one connection for that many
seconds, which leaves only the server's time and loopback's (`wrk_p50_ms`, `wrk_p99_ms`). The pages: the ticket list (`GET /v1/{project}/tickets`, seed 001: offset paging
capped at offset 1,000, sorts and filters), the repository user list (`GET /cloudartifact/v5/repositories/
users`: page_no/page_size, a name filter) and IAM's user list (`GET /v3/users`: no paging, a name filter).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arca import signed_headers  # noqa: E402
from load import Load, drive  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--database-url", default="")
    ap.add_argument("--wrk", type=float, default=0, help="seconds of wrk replay per page (0: none)")
    args = ap.parse_args()
    env = {"ARCA_DATABASE_URL": args.database_url} if args.database_url else {}
    env["ARCA_LOG"] = "warn"
    data_dir = args.data_dir.resolve()
    srv = harness.launch(data_dir.parent / (data_dir.name + ".bench-work"), data_dir=data_dir, env=env)
    session = requests.Session()
    try:
        proj = srv.iam_project_id
        tickets = "/v1/%s/tickets" % proj
        some_user = srv.signed("GET", tickets, query={"limit": "1"}, session=session).json()["page_data"][0]
        total_users = srv.signed("GET", "/cloudartifact/v5/repositories/users", query={"page_size": "10"},
                                 session=session).json()["result"]["total_records"]
        last = max(1, (total_users + 9) // 10)
        pages = [
            ("tickets first", tickets, {"limit": "10"}),
            ("tickets offset 500", tickets, {"limit": "10", "offset": "500"}),
            ("tickets offset 1000 (deepest)", tickets, {"limit": "10", "offset": "1000"}),
            ("tickets last (asc)", tickets, {"limit": "10", "sort_dir": "asc"}),
            ("tickets by left_num", tickets, {"limit": "10", "sort_key": "left_num", "offset": "1000"}),
            ("tickets by user_id", tickets, {"limit": "10", "sort_key": "user_id", "offset": "1000"}),
            ("tickets by embed_id", tickets, {"limit": "10", "sort_key": "embed_id"}),
            ("tickets user_id=", tickets, {"limit": "10", "user_id": some_user["user_id"]}),
            ("tickets user_name=", tickets, {"limit": "10", "user_name": some_user["user_name"]}),
            ("tickets embed_id=", tickets, {"limit": "10", "embed_id": "seed-generic"}),
            ("repo users first", "/cloudartifact/v5/repositories/users", {"page_size": "10"}),
            ("repo users middle", "/cloudartifact/v5/repositories/users",
             {"page_size": "10", "page_no": str(last // 2)}),
            ("repo users last", "/cloudartifact/v5/repositories/users", {"page_size": "10", "page_no": str(last)}),
            ("repo users user_name contains", "/cloudartifact/v5/repositories/users",
             {"page_size": "10", "user_name": "0000123"}),
            ("iam users name=", "/v3/users", {"name": some_user["user_name"]}),
        ]
        for label, path, query in pages:
            for _ in range(3):
                resp = srv.signed("GET", path, query=query, session=session)
                resp.raise_for_status()
            times = []
            for _ in range(args.requests):
                t = time.perf_counter()
                resp = srv.signed("GET", path, query=query, session=session)
                times.append((time.perf_counter() - t) * 1000)
                resp.raise_for_status()
            body = resp.json()
            rows = len(body.get("page_data") or (body.get("result") or {}).get("data") or body.get("users") or [])
            figures = {"page": label, "p50_ms": round(statistics.median(times), 2),
                       "p99_ms": round(pct(times, 99), 2), "rows": rows}
            if args.wrk:
                query_list = sorted(query.items())
                url = srv.url(path) + "?" + "&".join("%s=%s" % (k, quote(v, safe="-_.~")) for k, v in query_list)
                replay = Load(url, signed_headers(srv, "GET", path, query_list))
                fig = drive(srv.proc.pid, replay, 1, args.wrk, 1)
                assert fig.errors == 0 and fig.requests > 0, "%s: %d failed requests" % (label, fig.errors)
                figures.update({"wrk_req_s": round(fig.rate), "wrk_p50_ms": round(fig.p50_ms, 2),
                                "wrk_p99_ms": round(fig.p99_ms, 2)})
            print(json.dumps(figures), flush=True)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
