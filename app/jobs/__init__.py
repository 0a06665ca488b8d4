"""app/jobs"""
