from services.kit.serve import serve

serve("services.orders.app:create_app")
