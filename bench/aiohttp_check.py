#!/usr/bin/env python3
"""The textbook asyncio + aiohttp URL checker that urlcheck is compared with.

    python aiohttp_check.py URLS_FILE CONCURRENCY [TIMEOUT_SECONDS]

One coroutine per URL, an asyncio.Semaphore(C) around each request, asyncio.gather over all
of them. The connector's own cap (100 connections by default) is opened to C, and its
per-host cap is disabled, so the Semaphore is the only throttle, as for urlcheck with -c C.
Prints one JSON line with counts: up (2xx), down (other HTTP status), error (no answer).
"""

import asyncio
import json
import sys
import time

import aiohttp


async def check(session, sem, url):
    async with sem:
        try:
            async with session.get(url, allow_redirects=True) as resp:
                await resp.read()  # tiny bodies; reading them keeps the connection reusable
                return "up" if 200 <= resp.status < 300 else "down"
        except Exception:  # noqa: BLE001 - a checker reports any failure as an error
            return "error"


async def main(path, concurrency, timeout):
    with open(path) as f:
        urls = [line.strip() for line in f if line.strip()]
    sem = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=0)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        results = await asyncio.gather(*(check(session, sem, u) for u in urls))
    wall = time.perf_counter() - started
    counts = {"total": len(results), "up": 0, "down": 0, "error": 0}
    for r in results:
        counts[r] += 1
    counts["wall_s"] = round(wall, 4)
    print(json.dumps(counts))


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) == 4 else 10.0))
