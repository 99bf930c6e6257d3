from lyrictui.cli import main

main()
