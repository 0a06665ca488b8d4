"""app/tools"""
