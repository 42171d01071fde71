"""Entry script of the PyInstaller bundle: the same ``fieldapp`` command as the installed package."""

from app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
