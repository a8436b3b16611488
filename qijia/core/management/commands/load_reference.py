from django.core.management.base import BaseCommand

from qijia.core.reference import load_reference


class Command(BaseCommand):
    help = "Load towns and industries from shared/reference (idempotent)."

    def handle(self, *args, **options):
        counts = load_reference()
        self.stdout.write(
            f"已加载参考数据：镇街 {counts['towns']} 个，行业 {counts['industries']} 个"
        )
