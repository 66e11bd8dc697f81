def main():
    from newswatch.transforms import canonical
    print("ok", canonical.__name__)
