from dubkit.cli import main

main()
