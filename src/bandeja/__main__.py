from bandeja.cli.main import app

app()
