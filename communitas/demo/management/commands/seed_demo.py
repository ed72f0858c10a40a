import json
from dataclasses import asdict

from django.core.management.base import BaseCommand

from communitas.demo.seed import demo_counts, seed_demo


class Command(BaseCommand):
    help = "Load the demo community (idempotent) and print the logins; --json for machines."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, json: bool = False, **options):
        seeded = seed_demo()
        if json:
            self.stdout.write(_json_dumps({"organizations": [asdict(o) for o in seeded]}))
            return
        counts = demo_counts()
        self.stdout.write(
            f"Demo data ready: {counts['participants']} participants, {counts['support_persons']} support people."
        )
        for org in seeded:
            self.stdout.write(f"\n{org.name}")
            for user in org.users:
                self.stdout.write(f"  {user['role']:<17} {user['email']:<40} password: {user['password']}")


def _json_dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
