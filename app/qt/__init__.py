"""app/qt"""
