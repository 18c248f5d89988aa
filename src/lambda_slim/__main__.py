from lambda_slim._cli import main

main()
