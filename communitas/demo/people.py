"""Fictional people for the demo. Names are common names drawn from many communities; phone
numbers use the 555-01XX range reserved for fiction; emails use reserved example domains."""

FIRST_NAMES = {
    "latinx": ["Marisol", "José", "Guadalupe", "Alejandro", "Xóchitl", "Rafael", "Itzel", "Mateo", "Lucía", "Ernesto"],
    "black": ["Aaliyah", "Darnell", "Imani", "Malik", "Keisha", "Andre", "Nia", "Terrence", "Zora", "Marcus"],
    "indigenous": ["Winona", "Tahoma", "Shandiin", "Dakota", "Ayasha", "Kele", "Nizhoni", "Hania", "Talise", "Chayton"],
    "vietnamese": ["Linh", "Minh", "Thảo", "Quang", "Hương", "Bảo", "Trang", "Duy", "Ngọc", "Phúc"],
    "somali": ["Hodan", "Abdirahman", "Faduma", "Mohamed", "Ayaan", "Hassan", "Sahra", "Ismail", "Hibo", "Yusuf"],
    "chinese": ["Mei", "Wei", "Xiu", "Jun", "Lan", "Hao", "Ying", "Bo", "Jing", "Tao"],
    "filipino": ["Maricel", "Jomar", "Liza", "Rodel", "Cristina", "Arnel", "Joy", "Ramil", "Divina", "Noel"],
    "anglo": ["Emily", "Jacob", "Hannah", "Tyler", "Megan", "Cody", "Rachel", "Dustin", "Abigail", "Travis"],
    "arab": ["Layla", "Omar", "Yasmin", "Karim", "Nadia", "Tariq", "Rania", "Samir", "Huda", "Ziad"],
    "south_asian": ["Priya", "Arjun", "Ananya", "Rohan", "Kavya", "Vikram", "Meera", "Sanjay", "Divya", "Nikhil"],
}
SURNAMES = {
    "latinx": ["Quispe", "Hernández", "Ramírez", "Morales", "Castillo", "Ortega", "Flores", "Navarro"],
    "black": ["Washington", "Jefferson", "Okafor", "Banks", "Freeman", "Robinson", "Mensah", "Carter"],
    "indigenous": ["Begay", "Yazzie", "Tsosie", "Whitehorse", "Manuelito", "Redcloud", "Attakai", "Joe"],
    "vietnamese": ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"],
    "somali": ["Warsame", "Abdi", "Farah", "Hussein", "Jama", "Osman", "Egal", "Duale"],
    "chinese": ["Chen", "Lin", "Huang", "Zhang", "Wu", "Liu", "Zhou", "Xu"],
    "filipino": ["Santos", "Reyes", "Cruz", "Bautista", "Mendoza", "Villanueva", "Aquino", "Dizon"],
    "anglo": ["Miller", "Anderson", "Thompson", "Walker", "Sullivan", "Parker", "Hughes", "Brooks"],
    "arab": ["Haddad", "Khalil", "Nasser", "Saleh", "Mansour", "Aziz", "Darwish", "Hamdan"],
    "south_asian": ["Patel", "Sharma", "Iyer", "Reddy", "Desai", "Menon", "Kapoor", "Rao"],
}
LANGUAGES = {
    "latinx": ["es", "es", "en"],
    "vietnamese": ["vi", "en"],
    "somali": ["so", "en"],
    "chinese": ["zh", "en"],
    "filipino": ["tl", "en", "en"],
    "arab": ["ar", "en"],
    "indigenous": ["en", "en", "nv"],
}
BACKGROUNDS = {
    "latinx": [
        "Raised Catholic; my grandmother was a curandera",
        "Catholic, now mostly practices meditation",
        "Evangelical upbringing, not religious now",
        "Mexican-American; Día de Muertos traditions matter to me",
    ],
    "black": [
        "Black Baptist church community",
        "AME church, active in choir",
        "Spiritual but not religious",
        "Muslim (Nation of Islam family background)",
        "Yoruba Ifá practitioner",
    ],
    "indigenous": [
        "Diné; Native American Church member",
        "Lakota; Sun Dance family",
        "Grew up on the reservation, Christian and traditional",
        "Urban Native, reconnecting with ceremony",
    ],
    "vietnamese": [
        "Vietnamese Pure Land Buddhist",
        "Cao Đài family",
        "Catholic (Vietnamese parish)",
        "Ancestor veneration at home",
    ],
    "somali": ["Sunni Muslim", "Muslim; wants prayer times respected during retreat"],
    "chinese": ["Daoist practices from family", "No religious affiliation", "Buddhist", "Christian (Chinese church)"],
    "filipino": ["Catholic", "Iglesia ni Cristo background", "Catholic, also follows Babaylan revival"],
    "anglo": ["Secular Jewish", "Quaker", "Lutheran", "Raised Mormon, left the church", "Atheist", "Zen practitioner"],
    "arab": ["Muslim", "Maronite Christian", "Druze family, secular myself", "Sufi practice"],
    "south_asian": ["Hindu", "Sikh", "Jain", "Hindu family, personally agnostic"],
}
PRONOUNS = ["she/her", "he/him", "he/him", "she/her", "they/them", "she/they", "he/they", ""]
ACCESSIBILITY = [
    "",
    "",
    "",
    "",
    "",
    "",
    "Uses a wheelchair; needs step-free rooms and an accessible bathroom",
    "Hard of hearing; prefers written materials and seating near the facilitator",
    "Needs a professional interpreter for sessions",
    "Travels with a service dog",
    "Chronic back pain: needs a chair rather than floor cushions",
    "Low vision; large-print materials please",
    "Type 1 diabetes: needs snacks available and time to check glucose",
]
VETERAN_BACKGROUNDS = [
    "Army veteran, two deployments to Afghanistan; Lutheran",
    "Marine Corps veteran; not religious",
    "Navy corpsman; Catholic",
    "Air Force veteran; Buddhist practice since discharge",
    "Army National Guard, Iraq 2004; Baptist",
    "Marine veteran; Lakota, Sun Dance family",
    "Army medic; spiritual but not religious",
    "Coast Guard veteran; Methodist",
    "Special Forces veteran; searching for meaning",
    "Military spouse and Army veteran; Jewish",
]
AREA_CODES = {"cascadia": ["503", "971", "541", "458"], "stillwater": ["720", "303", "970", "719"]}
SUPPORT_RELATIONSHIPS = ["partner", "family", "friend", "peer", "chosen_family", "spiritual", "clinician"]
SUPPORT_NOTES = [
    "",
    "",
    "Best reached after 6pm",
    "Will drive them home after the administration session",
    "Attends the family integration evening",
    "Has been through the program before",
]
