"""The seed's kind of client, a web app on SQLAlchemy + PyMySQL whose DB_HOST points at the
balancer, keeps writing and reading across a kill -9 of a node, and loses no acknowledged write."""

import time
import unittest

import sqlalchemy as sa

from harness import Agent, LabTestCase, lab, wait_for


class SqlAlchemyApp(LabTestCase):
    def test_app_keeps_working_across_a_node_kill(self):
        the_lab = lab()
        with Agent(self.lab) as agent:
            engine = sa.create_engine(
                f"mysql+pymysql://{the_lab.app_user}:{the_lab.app_password}@127.0.0.1:{agent.port}/"
                f"{the_lab.app_database}", pool_pre_ping=True, pool_size=4)
            meta = sa.MetaData()
            carts = sa.Table("carts", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                             sa.Column("item", sa.String(40)))
            meta.drop_all(engine)
            meta.create_all(engine)
            acknowledged, failures = 0, []
            killed_at = None
            started = time.monotonic()
            # 12 s: the kill at about the first second, the cluster's eviction of the node about 6 s
            # later, and writes going on after it.
            while time.monotonic() - started < 12:
                if killed_at is None and acknowledged >= 100:
                    killed_at = time.time()
                    self.lab.kill(3)
                started_at = time.time()
                try:
                    with engine.begin() as db:
                        new_id = db.execute(carts.insert().values(item="book")).inserted_primary_key[0]
                    with engine.connect() as db:
                        self.assertEqual(db.execute(sa.select(carts.c.item).where(carts.c.id == new_id)).scalar(),
                                         "book")
                    acknowledged += 1
                except sa.exc.OperationalError as e:
                    failures.append((started_at, str(e).splitlines()[0]))
            victim = self.lab.node(3)
            excluded = agent.wait_transition(victim["port"], lambda t: t[2] != "eligible", 5, "exclusion",
                                             after=killed_at)
            with engine.connect() as db:
                stored = db.execute(sa.select(sa.func.count()).select_from(carts)).scalar()
            engine.dispose()
        print(f"acknowledged {acknowledged}, stored {stored}, failures {len(failures)}: {failures}")
        self.assertIsNotNone(killed_at)
        self.assertGreater(acknowledged, 200)
        self.assertEqual([f for f in failures if f[0] > excluded[0] + 0.001], [])
        self.assertGreaterEqual(stored, acknowledged)


if __name__ == "__main__":
    unittest.main()
