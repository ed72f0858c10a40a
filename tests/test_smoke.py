def test_it_lists_participants(alice_client, participant, client, alice_api):
    r = alice_client.get("/participants/")
    assert r.status_code == 200, r.content
    assert b"Marisol Quispe" in r.content
    r = client.get("/api/v1/participants", **alice_api)
    assert r.status_code == 200, r.content
    print(r.json())
    r = alice_client.get(f"/participants/{participant.pk}/")
    assert b"Tom\xc3\xa1s" in r.content
