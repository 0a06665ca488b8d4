"""app/render"""
