print("symbolon")
