"""Disclosure (双公示): licensing and penalty decisions published for everyone, searchable and paged, a natural
person's name masked; held decisions published by a clerk within 7 working days, or a red notice; withdrawal
(e.g. after reconsideration) with a reason. A room that reacts to what cases do (app/disclosure/reactions.py).
"""
