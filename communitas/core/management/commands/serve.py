from django.core.management.base import BaseCommand

from communitas.core.server import run_server


class Command(BaseCommand):
    help = "Serve Communitas with gunicorn (production-grade WSGI server)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, host, port, workers, **options):
        self.stdout.write(f"Communitas is serving on http://{host}:{port}/ (Ctrl+C stops it)")
        self.stdout.flush()
        run_server(host=host, port=port, workers=workers)
