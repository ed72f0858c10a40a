from communitas.cli import main

main()
