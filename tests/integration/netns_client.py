"""A client inside the failover test's client namespace: connects to HOST:PORT again and again
(a new connection each time, as a web request would), asks which node served it, and prints
one JSON line per attempt with the system-wide monotonic time, so that the test (in another
namespace, same clock) can measure from the moment it killed an agent.

Usage: netns_client.py HOST PORT USER DATABASE < password   (the password on stdin, never argv)"""

import json
import sys
import time

import pymysql

PAUSE = 0.05  # between attempts


def main():
    host, port, user, database = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    password = sys.stdin.readline().strip()
    while True:
        started = time.monotonic()
        line = {"t": started}
        try:
            conn = pymysql.connect(host=host, port=port, user=user, password=password, database=database,
                                   connect_timeout=1, read_timeout=2, write_timeout=2)
            try:
                with conn.cursor() as c:
                    c.execute("SELECT @@wsrep_node_name")
                    line.update(ok=True, node=c.fetchone()[0])
            finally:
                conn.close()
        except Exception as e:  # every failure is a data point, never the end of the loop
            line.update(ok=False, error=f"{type(e).__name__}: {e}")
        line["done"] = time.monotonic()
        print(json.dumps(line), flush=True)
        time.sleep(PAUSE)


if __name__ == "__main__":
    main()
