"""The officers' and committee's side of sealed bids: the opening committee, the bid register, the opening
ceremony and the opening record."""

urlpatterns: list = []
