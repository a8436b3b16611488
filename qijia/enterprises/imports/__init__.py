"""Import of enterprises, persons, roles, holdings and monthly indicators from XLSX or CSV.

One file per kind (chosen when uploading); see service.py for why it is hand-written and how it
keeps a file all-or-nothing, and kinds.py for the natural keys."""

from .service import Upload, import_file, import_process, import_receive, read_upload

__all__ = ["Upload", "import_file", "import_process", "import_receive", "read_upload"]
