def test_home_page_renders(client, db):
    response = client.get("/en/")
    assert response.status_code == 200
