"""What the sandbox's simulated customers say, in English, Spanish and Italian."""

from __future__ import annotations

NAMES = {
    "en": [
        ("Olivia", "Bennett"),
        ("Jack", "Turner"),
        ("Amelia", "Hughes"),
        ("Harry", "Walsh"),
        ("Grace", "Patel"),
        ("Noah", "Fletcher"),
        ("Chloe", "Murray"),
        ("Leo", "Gallagher"),
    ],
    "es": [
        ("Lucía", "Fernández"),
        ("Hugo", "Martín"),
        ("Carmen", "Ruiz"),
        ("Pablo", "Navarro"),
        ("Elena", "Ortega"),
        ("Javier", "Molina"),
        ("Sofía", "Delgado"),
        ("Diego", "Romero"),
    ],
    "it": [
        ("Giulia", "Ferrari"),
        ("Marco", "Esposito"),
        ("Chiara", "Romano"),
        ("Luca", "Ricci"),
        ("Francesca", "Greco"),
        ("Matteo", "Conti"),
        ("Sara", "Marino"),
        ("Davide", "Gallo"),
    ],
}

DMS = {
    "en": [
        "Hi! Are you open on Sunday?",
        "My order hasn't arrived yet, it's been over an hour. Order #{n}.",
        "Do you have any gluten-free options?",
        "Can I change the delivery address for my order?",
        "The coffee was cold and the croissant was stale. Really disappointed.",
        "Thank you so much, the cake for my mum's birthday was perfect!",
        "Is there parking near the shop on Baker Street?",
        "I was charged twice for the same order, can you help?",
        "Do you take bookings for groups of 10?",
        "Are you hiring baristas? I'd love to apply.",
    ],
    "es": [
        "Hola, ¿abrís los domingos?",
        "Mi pedido todavía no ha llegado, llevo más de una hora esperando. Pedido #{n}.",
        "¿Tenéis opciones sin gluten?",
        "¿Puedo cambiar la dirección de entrega de mi pedido?",
        "El café estaba frío y el cruasán duro. Muy decepcionada.",
        "¡Muchísimas gracias, la tarta para el cumpleaños de mi madre estaba perfecta!",
        "Me habéis cobrado dos veces el mismo pedido, ¿me ayudáis?",
        "¿Aceptáis reservas para grupos de 10 personas?",
        "¿Estáis buscando camareros? Me encantaría trabajar con vosotros.",
        "¿A qué hora cerráis hoy?",
    ],
    "it": [
        "Ciao! Siete aperti la domenica?",
        "Il mio ordine non è ancora arrivato, aspetto da più di un'ora. Ordine #{n}.",
        "Avete opzioni senza glutine?",
        "Posso cambiare l'indirizzo di consegna del mio ordine?",
        "Il caffè era freddo e il cornetto raffermo. Davvero deluso.",
        "Grazie mille, la torta per il compleanno di mia mamma era perfetta!",
        "Mi avete addebitato due volte lo stesso ordine, potete aiutarmi?",
        "Accettate prenotazioni per gruppi di 10 persone?",
        "State cercando baristi? Mi piacerebbe candidarmi.",
        "A che ora chiudete stasera?",
    ],
}

COMMENTS = {
    "en": [
        "Looks delicious! 😍",
        "Is this available in the London shops?",
        "Overpriced for what you get.",
        "Best flat white in town ☕",
        "Still waiting for a reply to my DM…",
    ],
    "es": [
        "¡Qué buena pinta! 😍",
        "¿Esto está en las tiendas de Madrid?",
        "Demasiado caro para lo que es.",
        "El mejor café de la ciudad ☕",
        "Sigo esperando respuesta a mi mensaje…",
    ],
    "it": [
        "Che buono! 😍",
        "È disponibile anche a Milano?",
        "Troppo caro per quello che è.",
        "Il miglior cappuccino della città ☕",
        "Aspetto ancora una risposta al mio messaggio…",
    ],
}

MENTIONS = {
    "en": [
        "@{brand} your delivery app keeps crashing at checkout",
        "Lovely brunch at @{brand} today!",
        "@{brand} are you open on bank holidays?",
    ],
    "es": [
        "@{brand} la app se cuelga al pagar",
        "¡Qué brunch más rico hoy en @{brand}!",
        "@{brand} ¿abrís en festivos?",
    ],
    "it": [
        "@{brand} l'app si blocca al pagamento",
        "Brunch buonissimo oggi da @{brand}!",
        "@{brand} siete aperti nei giorni festivi?",
    ],
}

POSTS = [
    "New autumn menu: pumpkin spice latte is back 🎃",
    "Nuevo menú de otoño: vuelve el latte de calabaza 🎃",
    "Nuovo menù d'autunno: torna il latte alla zucca 🎃",
]

REACTIONS = ["❤️", "😂", "😮", "😢", "👍"]
