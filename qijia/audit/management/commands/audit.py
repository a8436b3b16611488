"""``qijia audit verify``: walk the chain; exit 1 and name the first bad record if it was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from qijia.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Audit trail operations. `audit verify` walks the hash chain and reports the first bad record."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="verify the hash chain")

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(str(result), returncode=1)
        self.stdout.write(self.style.SUCCESS(str(result)))
