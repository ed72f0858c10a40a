from django.core.management import call_command
from django.core.management.base import BaseCommand

from communitas.core.server import run_server


class Command(BaseCommand):
    help = "Create the database, load the demo community and serve it on http://127.0.0.1:8000/."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host, port, **options):
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        self.stdout.write(f"\nOpen http://{host}:{port}/ and sign in with one of the logins above. Ctrl+C stops it.\n")
        self.stdout.flush()
        run_server(host=host, port=port)
