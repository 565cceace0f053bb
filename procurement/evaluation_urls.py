"""The evaluation committee's pages, the award and complaints."""

urlpatterns: list = []
