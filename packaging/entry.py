"""Entry point of the one-file build: exactly what the installed `outbound-console` runs."""

from console.launch import run

if __name__ == "__main__":
    run()
